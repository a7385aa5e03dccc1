import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import jsQRModule from 'jsqr'
import { PNG } from 'pngjs'
import type { Browser, Page } from 'playwright-core'
import { cleanupAll, makeProfile, runCli, startDaemon, type Profile } from '../helpers/cli.js'
import { BROWSER_SKIP, fakeCameraArgs, launchBrowser, loggedInPage, SCREENSHOTS, writeQrVideo } from '../helpers/browser.js'
import { startKeyServer } from '../helpers/keyserver.js'
import { tempDir } from '../helpers/files.js'
import { waitFor } from '../helpers/wait.js'
import { fingerprint, parseUserId } from '../../src/identity/index.js'

/** jsqr is CommonJS with an ES-style default in its types: its module object is the function. */
const jsQR = jsQRModule as unknown as typeof jsQRModule.default

interface Listed { name: string, userId: string, verified: boolean, keyserver?: { username: string } }

/**
 * Finding people in the web UI: alice's own ID as a QR code (decoded from the
 * pixels Chromium drew), a key server search and add, the verified mark, and
 * a key change shown as a warning, applied only when she accepts it.
 */
describe('the web UI: QR code, key server, verification, key changes', { skip: BROWSER_SKIP }, () => {
  let alice: Profile
  let carol: Profile
  let url: string
  let browser: Browser
  let page: Page
  const contact = async (name: string): Promise<Listed | undefined> =>
    (JSON.parse((await runCli(alice.home, ['contacts', 'list', '--json'])).stdout) as Listed[]).find(c => c.name === name)

  before(async () => {
    url = (await startKeyServer(join(tempDir('cspace-ui-ks-'), 'keyserver.db'))).url
    alice = await makeProfile('alice', { config: { keyserver: url } })
    carol = await makeProfile('carol')
    const r = await runCli(carol.home, ['keyserver', 'register', 'carol', '--display-name', 'Carol Ann', '--keyserver', url])
    assert.equal(r.code, 0, r.stderr)
    await startDaemon(alice.home, ['--no-apps'])
    browser = await launchBrowser()
    page = await loggedInPage(browser, alice.home)
  })
  after(async () => {
    await browser?.close()
    await cleanupAll()
  })

  test('alice\'s ID as a QR code: what Chromium draws decodes to her ID', async () => {
    await page.getByRole('button', { name: 'Show my ID as a QR code' }).click()
    const qr = page.getByRole('img', { name: /^QR code of your ID/ })
    const png = PNG.sync.read(await qr.screenshot())
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)
    assert.equal(decoded?.data, alice.userId)
  })

  test('search the key server, add carol from it: pinned, and checked at once', async () => {
    await page.getByRole('textbox', { name: 'Username (or its beginning)' }).fill('car')
    await page.getByRole('button', { name: 'Search' }).click()
    const hit = page.locator('li[data-user="carol"]')
    await hit.getByText('Carol Ann').waitFor()
    await hit.getByText(carol.fingerprint).waitFor()
    await hit.getByRole('button', { name: 'Add carol' }).click()
    const row = page.locator('li[data-contact="carol"]')
    await row.waitFor()
    assert.equal((await contact('carol'))?.keyserver?.username, 'carol')
    await row.getByRole('button', { name: 'carol', exact: true }).click()
    await row.getByRole('status').getByText(/^ok: "carol" on .* still holds the key you pinned/).waitFor({ timeout: 20_000 })
  })

  test('marking carol verified after comparing fingerprints', async () => {
    const row = page.locator('li[data-contact="carol"]')
    assert.equal((await contact('carol'))?.verified, false)
    await row.getByRole('button', { name: 'I compared it with carol: mark verified' }).click()
    await row.getByText('yes: you compared the fingerprint with them').waitFor()
    assert.equal((await contact('carol'))?.verified, true)
  })

  test('carol rotates her key: the page warns, keeps the old key, and switches only when alice accepts', async () => {
    const rotated = await runCli(carol.home, ['keyserver', 'rotate', '--keyserver', url])
    assert.equal(rotated.code, 0, rotated.stderr)
    const newId = rotated.stdout.split('\n')[0]
    const newPrint = fingerprint(parseUserId(newId).publicKey)
    const row = page.locator('li[data-contact="carol"]')
    await row.getByRole('button', { name: 'Check the key server again' }).click()
    const warning = row.getByRole('alert')
    await warning.getByText(/KEY CHANGED/).waitFor({ timeout: 20_000 })
    assert.match(await warning.innerText(), new RegExp(newPrint))
    assert.match(await warning.innerText(), /\. The button below accepts it\.$/, 'no terminal command in the page')
    assert.equal((await contact('carol'))?.userId, carol.userId, 'never applied by itself')
    await page.screenshot({ path: join(SCREENSHOTS, 'key-change.png'), fullPage: true })

    await row.getByRole('button', { name: 'Use carol\'s new key' }).click()
    await row.getByText(newPrint).first().waitFor({ timeout: 20_000 })
    const after = await contact('carol')
    assert.equal(after?.userId, newId)
    assert.equal(after?.verified, false, 'a new key is not verified')
    await row.getByText('not yet: compare the fingerprint').waitFor()
  })

  test('scanning a contact\'s QR code with the camera fills in their ID', async () => {
    const dave = await makeProfile('dave')
    const video = join(tempDir('cspace-ui-camera-'), 'qr.y4m')
    writeQrVideo(video, dave.userId)
    const withCamera = await launchBrowser(fakeCameraArgs(video))
    try {
      const p = await loggedInPage(withCamera, alice.home)
      await p.getByRole('button', { name: 'Scan their QR code' }).click()
      const idBox = p.getByRole('textbox', { name: 'User ID', exact: true })
      assert.equal(await waitFor('the scanned ID', async () => (await idBox.inputValue()) || undefined, 20_000), dave.userId)
      await p.getByRole('button', { name: 'Scan their QR code' }).waitFor() // the camera is closed again
      await p.getByRole('textbox', { name: 'Name', exact: true }).fill('dave')
      await p.getByRole('button', { name: 'Add contact' }).click()
      await p.locator('li[data-contact="dave"]').waitFor()
    } finally {
      await withCamera.close()
    }
  })
})
