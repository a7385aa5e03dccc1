import assert from 'node:assert/strict'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import QRCode from 'qrcode'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT, runCli } from './cli.js'

/** Debian's Chromium (.ci/run installs it); playwright-core drives it. */
export const CHROMIUM = '/usr/bin/chromium'
/** Each screen as the tests saw it, for the README. */
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots')
/** For describe(): why the browser tests cannot run here, or false. */
export const BROWSER_SKIP: string | false = existsSync(CHROMIUM) ? false : 'needs Chromium at /usr/bin/chromium (apt-get install chromium)'

export async function launchBrowser (args: string[] = []): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // root in a container: Chromium's sandbox needs user namespaces it may not have
  return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...args] })
}

/**
 * Chromium flags for a camera that films `video` (Y4M) and a camera
 * permission granted without asking: a real getUserMedia stream.
 */
export function fakeCameraArgs (video: string): string[] {
  return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]
}

/** Writes a Y4M video (two frames) of `text` as a QR code, 8 pixels a module, black on white, for fakeCameraArgs. */
export function writeQrVideo (path: string, text: string): void {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules
  const scale = 8
  const quiet = 4
  const side = (size + 2 * quiet) * scale
  const y = Buffer.alloc(side * side, 255)
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      const mx = Math.floor(col / scale) - quiet
      const my = Math.floor(row / scale) - quiet
      if (mx >= 0 && my >= 0 && mx < size && my < size && data[my * size + mx] !== 0) y[row * side + col] = 0
    }
  }
  const chroma = Buffer.alloc((side / 2) * (side / 2) * 2, 128)
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma])
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${side} H${side} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]))
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
