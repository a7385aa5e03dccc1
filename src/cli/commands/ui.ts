import { spawn } from 'node:child_process'
import { Command } from 'commander'
import { LocalApiClient } from '../../sdk/index.js'
import { findOnPath, hasGraphicalSession } from '../../util/find-on-path.js'

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
      spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref()
    })
}
