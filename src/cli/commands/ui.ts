import { spawn } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { LocalApiClient } from '../../sdk/index.js'
import { findOnPath, hasGraphicalSession } from '../../util/find-on-path.js'
import { cliProfile } from '../profile.js'

/** A browser opener for this desktop, if there is a desktop. */
function browserOpener (): string | undefined {
  if (!hasGraphicalSession()) return undefined
  if (process.platform === 'darwin') return 'open'
  return findOnPath('xdg-open') != null ? 'xdg-open' : undefined
}

/** `cspace ui`: a one-time login link to the web UI, opened in a browser where there is one. */
export function registerUiCommand (program: Command): void {
  program.command('ui')
    .description('open the web UI: prints a one-time login link (valid 2 minutes) and opens it in your browser if there is one')
    .option('--no-open', 'only print the link')
    .action(async (opts: { open: boolean }) => {
      const { url } = await new LocalApiClient().post<{ url: string, expiresAt: number }>('/v1/ui/login', {})
      process.stdout.write(`${url}\n`)
      const opener = opts.open ? browserOpener() : undefined
      if (opener == null) {
        process.stderr.write('open this link in a browser on this machine within 2 minutes; it works once\n')
        return
      }
      spawn(opener, [loginPage(url)], { stdio: 'ignore', detached: true }).on('error', () => {}).unref()
    })
}

/**
 * A browser is handed a page in the profile that goes on to the link, not the
 * link: a program's arguments are in the process list, where another user of
 * the machine could read the link and spend it first (Jupyter does the same).
 * The page is the owner's alone (0600, in the 0700 profile directory).
 */
function loginPage (url: string): string {
  const file = join(cliProfile().home, 'ui-login.html')
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
  writeFileSync(file, `<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n<meta http-equiv="refresh" content="0;url=${href}">\n<title>cspace</title>\n<p><a href="${href}">Open cspace</a></p>\n`, { mode: 0o600 })
  chmodSync(file, 0o600) // an older file keeps its mode through writeFileSync
  return pathToFileURL(file).href
}
