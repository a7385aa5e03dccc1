import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../helpers/files.js'
import type { Browser, Page, WebSocketRoute } from 'playwright-core'
import { cleanupAll, makeProfile, runCli, startDaemon, type Profile, type RunningDaemon } from '../helpers/cli.js'
import { BROWSER_SKIP, launchBrowser, SCREENSHOTS } from '../helpers/browser.js'
import { waitFor } from '../helpers/wait.js'

describe('the web UI in a real browser', { skip: BROWSER_SKIP }, () => {
  let alice: Profile
  let bob: Profile
  let bobD: RunningDaemon
  let carol: Profile
  let browser: Browser
  let page: Page

  before(async () => {
    alice = await makeProfile('alice')
    bob = await makeProfile('bob')
    bobD = await startDaemon(bob.home, ['--no-apps'])
    // alice knows bob's daemon from the start, so he is online as soon as she adds him
    await startDaemon(alice.home, ['--no-apps', '--bootstrap', bobD.addresses[0]])
    browser = await launchBrowser()
    page = await browser.newPage()
  })
  after(async () => {
    await browser?.close()
    await cleanupAll()
  })

  test('without a login link the page says how to get one, and the API refuses the browser', async () => {
    const { stdout } = await runCli(alice.home, ['ui', '--no-open'])
    const origin = new URL(stdout.trim()).origin
    await page.goto(`${origin}/ui/`)
    await page.getByText('run cspace ui').waitFor()
    const status = await page.evaluate(async () => (await fetch('/v1/status')).status)
    assert.equal(status, 401)
  })

  test('`cspace ui` logs the browser in: the address bar keeps no token, and the page has a strict CSP', async () => {
    const r = await runCli(alice.home, ['ui', '--no-open'])
    assert.equal(r.code, 0, r.stderr)
    const link = r.stdout.trim()
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/ui\/login\?token=[\w-]{40,}$/)
    const response = await page.goto(link)
    assert.equal(new URL(page.url()).pathname, '/ui/')
    assert.equal(new URL(page.url()).search, '', 'no secret left in the URL')
    assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'.*script-src 'self'/)
    await page.getByRole('heading', { name: 'Contacts' }).waitFor()
    await page.getByText('live', { exact: true }).waitFor()
    assert.equal(new URL(page.url()).hash, '', 'the session\'s key, brought in the fragment, is taken out of the address bar')
    assert.match(String(await page.evaluate('localStorage.getItem("cspace-session-key")')), /^[\w-]{43}$/, 'and kept where only this origin can read it')
    // the session cookie is HttpOnly: the page's scripts cannot read it
    assert.equal(await page.evaluate('document.cookie'), '')
    // the same link does not work twice
    const again = await (await browser.newPage()).goto(link)
    assert.equal(again?.status(), 401)
  })

  test('`cspace ui` hands the browser a private page that goes on to the link: the link is never in the process list', async () => {
    // a stand-in for xdg-open that notes what it was asked to open
    const bin = tempDir()
    writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nprintf "%s" "$1" > "$(dirname "$0")/opened"\n', { mode: 0o755 })
    const r = await runCli(alice.home, ['ui'], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, DISPLAY: ':99' } })
    assert.equal(r.code, 0, r.stderr)
    const token = new URL(r.stdout.trim()).searchParams.get('token') ?? ''
    assert.ok(token.length >= 40)
    const opened = await waitFor('the opener to run', () => existsSync(join(bin, 'opened')) ? readFileSync(join(bin, 'opened'), 'utf8') : undefined)
    assert.match(opened, /^file:\/\//)
    assert.ok(!opened.includes(token), 'the opener\'s arguments do not carry the token')
    const file = fileURLToPath(opened)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.ok(readFileSync(file, 'utf8').includes(token))
    // and the page logs a browser in
    const context = await browser.newContext()
    try {
      const fresh = await context.newPage()
      await fresh.goto(opened)
      await fresh.getByRole('heading', { name: 'Contacts' }).waitFor()
      assert.equal(new URL(fresh.url()).pathname, '/ui/')
    } finally {
      await context.close()
    }
  })

  test('adding a contact by pasting their ID: the contact shows up, online, without a reload', async () => {
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('bob')
    await page.getByRole('textbox', { name: 'User ID', exact: true }).fill(bob.userId)
    await page.getByRole('button', { name: 'Add contact' }).click()
    const row = page.locator('li[data-contact="bob"]')
    await row.getByText('online').waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(SCREENSHOTS, 'contacts.png'), fullPage: true })
    // the CLI sees what the browser did
    const contacts = JSON.parse((await runCli(alice.home, ['contacts', 'list', '--json'])).stdout) as Array<{ name: string }>
    assert.ok(contacts.some(c => c.name === 'bob'))
  })

  test('a bad ID, a contact\'s again, your own: each refused with the daemon\'s one-line message in the page\'s words, and nothing is added', async () => {
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('mallory')
    await page.getByRole('textbox', { name: 'User ID', exact: true }).fill('cs1notanid')
    await page.getByRole('button', { name: 'Add contact' }).click()
    const alert = page.locator('form[aria-labelledby="add-contact"]').getByRole('alert')
    await alert.waitFor()
    // the daemon's message, with its terminal advice in the page's words
    assert.match(await alert.innerText(), /^invalid user ID: .+; ask them to copy the ID under "You" on their cspace page$/)
    assert.equal(await page.locator('li[data-contact="mallory"]').count(), 0)
    await page.getByRole('textbox', { name: 'User ID', exact: true }).fill(bob.userId)
    await page.getByRole('button', { name: 'Add contact' }).click()
    await alert.getByText('this key is already your contact "bob"; to rename them, open their name under Contacts').waitFor()
    await page.getByRole('textbox', { name: 'User ID', exact: true }).fill(alice.userId)
    await page.getByRole('button', { name: 'Add contact' }).click()
    await alert.getByText('that is your own ID; a contact is someone else\'s', { exact: true }).waitFor()
    assert.equal(await page.locator('li[data-contact="mallory"]').count(), 0)
  })

  test('a contact added elsewhere (the CLI) appears live, over the event stream', async () => {
    carol = await makeProfile('carol')
    assert.equal((await runCli(alice.home, ['contacts', 'add', 'carol', carol.userId])).code, 0)
    await page.locator('li[data-contact="carol"]').waitFor({ timeout: 20_000 })
  })

  test('the rules editor: add a rule, see a bad one refused, see one added by the CLI, remove one', async () => {
    const ruleTexts = async (): Promise<string[]> => (JSON.parse((await runCli(alice.home, ['rules', 'list', '--json'])).stdout) as Array<{ text: string }>).map(e => e.text)
    await page.getByRole('heading', { name: 'Who may use what' }).waitFor()
    await page.getByText('deny anyone * (built in)').waitFor()
    await page.getByRole('combobox', { name: 'Action' }).selectOption('allow')
    await page.getByRole('textbox', { name: /^Who/ }).fill('bob')
    await page.getByRole('textbox', { name: /^Service \(a name/ }).fill('desktop')
    await page.getByRole('button', { name: 'Add rule' }).click()
    await page.locator('li[data-rule="allow bob desktop"]').waitFor()
    assert.deepEqual(await ruleTexts(), ['allow bob desktop'])

    await page.getByRole('textbox', { name: /^Who/ }).fill('bob')
    await page.getByRole('textbox', { name: /^Service \(a name/ }).fill('No Such Service!')
    await page.getByRole('button', { name: 'Add rule' }).click()
    await page.locator('section[aria-labelledby="rules"]').getByRole('alert').waitFor()
    assert.deepEqual(await ruleTexts(), ['allow bob desktop'], 'nothing stored')

    assert.equal((await runCli(alice.home, ['rules', 'add', 'deny', 'anyone', 'files'])).code, 0)
    await page.locator('li[data-rule="deny anyone files"]').waitFor({ timeout: 20_000 })
    await page.screenshot({ path: join(SCREENSHOTS, 'rules.png'), fullPage: true })

    await page.getByRole('button', { name: 'Remove rule “allow bob desktop”' }).click()
    await page.locator('li[data-rule="allow bob desktop"]').waitFor({ state: 'detached' })
    assert.deepEqual(await ruleTexts(), ['deny anyone files'])
  })

  test('contact details by keyboard: the fingerprint to compare; rename; remove after a confirmation', async () => {
    const names = async (): Promise<string[]> => (JSON.parse((await runCli(alice.home, ['contacts', 'list', '--json'])).stdout) as Array<{ name: string }>).map(c => c.name)
    const toggle = page.locator('li[data-contact="carol"]').getByRole('button', { name: 'carol', exact: true })
    await toggle.focus()
    await page.keyboard.press('Enter')
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true')
    await page.getByText(carol.fingerprint).waitFor()
    await page.screenshot({ path: join(SCREENSHOTS, 'contact-details.png'), fullPage: true })
    // Escape closes it, and the focus is back on the button that opened it
    await page.getByRole('textbox', { name: 'New name for carol' }).focus()
    await page.keyboard.press('Escape')
    await page.getByText(carol.fingerprint).waitFor({ state: 'detached' })
    assert.equal(await page.evaluate("document.activeElement?.closest('li')?.dataset.contact + ' ' + document.activeElement?.dataset.tab"), 'carol details', 'focus back on "carol"')
    await page.keyboard.press('Enter')
    await page.getByText(carol.fingerprint).waitFor()

    await page.getByRole('textbox', { name: 'New name for carol' }).fill('caroline')
    await page.getByRole('button', { name: 'Rename' }).click()
    await page.locator('li[data-contact="caroline"]').waitFor()
    assert.ok((await names()).includes('caroline'))

    await page.locator('li[data-contact="caroline"]').getByRole('button', { name: 'caroline', exact: true }).click()
    await page.getByRole('button', { name: 'Remove caroline…' }).click()
    assert.ok((await names()).includes('caroline'), 'nothing is removed before the confirmation')
    await page.getByRole('button', { name: 'Yes, remove' }).click()
    await page.locator('li[data-contact="caroline"]').waitFor({ state: 'detached' })
    assert.ok(!(await names()).includes('caroline'))
    assert.equal(await page.evaluate('document.activeElement?.id'), 'contacts', 'the focus is on the list\'s heading, not lost')
  })

  test('a daemon that stops answering: the page says so and how to get back; back at the same address, it says the session ended', async () => {
    const erin = await makeProfile('erin')
    let d = await startDaemon(erin.home, ['--no-apps'])
    const p = await browser.newPage()
    try {
      // the same address again after the restart: a link from before it reaches it
      const link = (await runCli(erin.home, ['ui', '--no-open'])).stdout.trim()
      const port = Number(new URL(link).port)
      writeFileSync(join(erin.home, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(erin.home, 'config.json'), 'utf8')), apiPort: port }))
      await p.goto(link)
      await p.getByText('live', { exact: true }).waitFor({ timeout: 20_000 })
      await d.stop()
      await p.getByRole('alert').getByText('Your cspace daemon is not answering').waitFor({ timeout: 20_000 })
      await p.getByText('daemon not answering', { exact: true }).waitFor()
      // back on the same port, it has forgotten the session: the page says that instead
      d = await startDaemon(erin.home, ['--no-apps'])
      await p.getByRole('alert').getByText('This session has ended').waitFor({ timeout: 60_000 })
    } finally {
      await p.close()
      await d.stop()
    }
  })

  test('a dropped event stream: the page reconnects and reloads, so a change it missed shows; once the session is gone it says so', async () => {
    // the events WebSocket goes through the test: it can lose what the daemon sends, then cut the connection
    const p = await browser.newPage()
    const pageSides: WebSocketRoute[] = []
    const dropped: string[] = []
    let dropping = false
    await p.routeWebSocket(/\/v1\/events\/ws/, (ws) => {
      const server = ws.connectToServer()
      server.onMessage((m) => { if (dropping) dropped.push(String(m)); else ws.send(m) })
      pageSides.push(ws)
    })
    const link = (await runCli(alice.home, ['ui', '--no-open'])).stdout.trim()
    await p.goto(link)
    await p.getByText('live', { exact: true }).waitFor({ timeout: 20_000 })

    dropping = true
    const dora = await makeProfile('dora')
    assert.equal((await runCli(alice.home, ['contacts', 'add', 'dora', dora.userId])).code, 0)
    await waitFor('the daemon\'s event about dora, lost on the way', () => dropped.some(m => /contact:added|profile:changed/.test(m)), 20_000)
    assert.equal(await p.locator('li[data-contact="dora"]').count(), 0, 'the page missed it')
    dropping = false
    await pageSides[0].close()
    await p.locator('li[data-contact="dora"]').waitFor({ timeout: 20_000 })
    assert.ok(pageSides.length >= 2, 'it reconnected')

    // logged out elsewhere: the next reconnection finds no session, and the page says what to do
    await p.evaluate(`fetch('/v1/ui/logout', { method: 'POST', headers: { 'x-cspace-csrf': localStorage.getItem('cspace-session-key') } })`)
    await pageSides.at(-1)!.close()
    await p.getByRole('alert').getByText('This session has ended').waitFor({ timeout: 20_000 })
    await p.close()
  })
})
