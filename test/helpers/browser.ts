import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT, runCli } from './cli.js'

/** Debian's Chromium (.ci/run installs it); playwright-core drives it. */
export const CHROMIUM = '/usr/bin/chromium'
/** Each screen as the tests saw it, for the README. */
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots')
/** For describe(): why the browser tests cannot run here, or false. */
export const BROWSER_SKIP: string | false = existsSync(CHROMIUM) ? false : 'needs Chromium at /usr/bin/chromium (apt-get install chromium)'

export async function launchBrowser (): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // root in a container: Chromium's sandbox needs user namespaces it may not have
  return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}

/** A fresh page logged in to the daemon of `home` through `cspace ui`'s one-time link, as a user would. */
export async function loggedInPage (browser: Browser, home: string): Promise<Page> {
  const r = await runCli(home, ['ui', '--no-open'])
  assert.equal(r.code, 0, r.stderr)
  const page = await browser.newPage()
  await page.goto(r.stdout.trim())
  await page.getByText('live', { exact: true }).waitFor({ timeout: 20_000 })
  return page
}
