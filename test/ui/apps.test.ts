import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { once } from 'node:events'
import { connect, createServer, type AddressInfo } from 'node:net'
import type { Browser, Locator, Page } from 'playwright-core'
import { cleanupAll, makeProfile, runCli, spawnCspace, startDaemon, startTwoUsers, waitOnline, type Profile, type RunningDaemon } from '../helpers/cli.js'
import { BROWSER_SKIP, launchBrowser, loggedInPage, SCREENSHOTS } from '../helpers/browser.js'
import { sha256File, tempDir, writeRandomFile } from '../helpers/files.js'
import { portOpen, waitFor } from '../helpers/wait.js'
import { freePort } from '../helpers/sshd.js'
import { ControlClient } from '../../src/apps/host/index.js'
import { connect as connectUser } from '../../src/sdk/index.js'
import { FrameType, readFrames } from '../../src/apps/files/index.js'
import { framesFor, rawSession } from '../apps/files/helpers.js'

/**
 * The apps in alice's browser, with bob at a terminal: chat both ways, files
 * both ways (drag and drop, accept), and a prompted connection allowed from
 * the page. Real daemons with their apps, a router, Chromium.
 */
describe('the apps in the web UI', { skip: BROWSER_SKIP }, () => {
  let alice: Profile
  let bob: Profile
  let bobD: RunningDaemon
  let boot: string[]
  let browser: Browser
  let page: Page
  let bobRow: Locator
  let aliceDownloads: string
  let bobDownloads: string

  const cli = async (home: string, args: string[], input?: string): Promise<string> => {
    const r = await runCli(home, args, { input })
    assert.equal(r.code, 0, `cspace ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }

  /**
   * Bob offers `path` (two chunks of `data`) by hand, alice accepts it in the
   * page, bob sends the first chunk and goes: the page shows it half there,
   * waiting for him. Answers the transfer's frames, for a re-send.
   */
  const sentHalfway = async (path: string, data: Buffer): Promise<Buffer[]> => {
    const frames = framesFor([{ path, data }])
    const socket = await connectUser('alice', 'files', { home: bob.home })
    socket.on('error', () => {})
    const replies = readFrames(socket, { chunkSize: () => 0 })
    socket.write(frames[0])
    const offer = page.locator('li[data-state="pending"]', { hasText: path })
    await offer.waitFor({ timeout: 30_000 })
    await offer.getByRole('button', { name: `Accept ${path}` }).click()
    for (;;) {
      const reply = await replies.next()
      assert.equal(reply.done, false, 'alice closed the connection before accepting')
      if (JSON.parse(reply.value!.payload.toString('utf8')).state === 'accepted') break
    }
    socket.end(Buffer.concat([frames[1], frames[2]])) // the first of two chunks, then gone
    await page.locator('li[data-state="accepted"]', { hasText: '50% · waiting for bob to send the rest' }).filter({ hasText: path }).waitFor({ timeout: 20_000 })
    socket.destroy()
    return frames
  }

  /** Drops the file at `path` on bob's row (its Files panel open), as a real drop event carrying a real File. */
  const dropOnBob = async (path: string): Promise<void> => {
    // Playwright puts the file into an input, the page drops it on the zone
    // (the page's code is given as text: this file is compiled without the DOM's types)
    await page.evaluate("{ const i = document.createElement('input'); i.type = 'file'; i.id = 'test-source'; document.body.append(i) }")
    await page.setInputFiles('#test-source', path)
    await page.evaluate(`{
      const dt = new DataTransfer()
      for (const f of document.getElementById('test-source').files) dt.items.add(f)
      document.querySelector('li[data-contact="bob"] .dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }))
      document.getElementById('test-source').remove()
    }`)
  }

  /** A new user, no contact of alice's, sends her `text`: her page asks about it. */
  const strangerChats = async (name: string, text: string): Promise<{ stranger: Profile, sending: ReturnType<typeof runCli>, prompt: Locator }> => {
    const stranger = await makeProfile(name)
    await startDaemon(stranger.home, boot)
    const sending = runCli(stranger.home, ['chat', alice.userId, '--send', text, '--wait', '60'])
    const prompt = page.locator('section[aria-labelledby="requests"] li', { hasText: 'chat' })
    await prompt.waitFor({ timeout: 30_000 })
    return { stranger, sending, prompt }
  }

  before(async () => {
    ;({ alice, bob, bobD, boot } = await startTwoUsers())
    aliceDownloads = tempDir('cspace-ui-alice-dl-')
    bobDownloads = tempDir('cspace-ui-bob-dl-')
    await waitFor('the files apps', async () => (await runCli(bob.home, ['transfers', 'config', '--downloads', bobDownloads])).code === 0 &&
      (await runCli(alice.home, ['transfers', 'config', '--downloads', aliceDownloads])).code === 0, 20_000, 200)
    await cli(bob.home, ['receive', '--accept-from', 'alice'])
    browser = await launchBrowser()
    page = await loggedInPage(browser, alice.home)
    bobRow = page.locator('li[data-contact="bob"]')
    await bobRow.getByText('online').waitFor({ timeout: 30_000 })
  })
  after(async () => {
    await browser?.close()
    await cleanupAll()
  })

  test('chat both ways: delivered marks, bob\'s answer from the CLI arrives live, typing shows on both sides', async () => {
    const bobChat = await ControlClient.open('chat', bob.home)
    const typing: Array<{ on: boolean }> = []
    bobChat.onEvent((event, data) => { if (event === 'typing') typing.push(data as { on: boolean }) })
    await bobChat.request('subscribe')

    await bobRow.getByRole('button', { name: 'Chat' }).click()
    const box = page.getByRole('textbox', { name: 'Message to bob' })
    await box.pressSequentially('hello bob')
    await waitFor('bob to see alice typing', () => typing.some(t => t.on))
    await box.press('Enter')
    await bobRow.locator('ol.messages li.out[data-state="delivered"]', { hasText: 'hello bob' }).waitFor({ timeout: 20_000 })
    assert.equal(await box.inputValue(), '', 'the box is cleared once sent')
    const inbox = JSON.parse(await cli(bob.home, ['chat', '--inbox', '--json'])) as { messages: Array<{ message: { text: string } }> }
    assert.deepEqual(inbox.messages.map(m => m.message.text), ['hello bob'])

    await bobChat.request('typing', { to: 'alice', on: true })
    await bobRow.getByText('bob is typing…').waitFor()
    await cli(bob.home, ['chat', 'alice', '--send', 'hi alice, from my terminal'])
    await bobRow.locator('ol.messages li.in', { hasText: 'hi alice, from my terminal' }).waitFor({ timeout: 20_000 })
    await bobRow.getByText('bob is typing…').waitFor({ state: 'detached' })
    await page.screenshot({ path: join(SCREENSHOTS, 'chat.png'), fullPage: true })
    bobChat.close()
  })

  test('a message while the conversation is closed shows as unread on the contact; opening it reads it', async () => {
    await bobRow.getByRole('button', { name: 'Chat' }).click() // closes it
    await bobRow.locator('ol.messages').waitFor({ state: 'detached' })
    await cli(bob.home, ['chat', 'alice', '--send', 'are you there?'])
    const chatButton = bobRow.getByRole('button', { name: /^Chat/ })
    await chatButton.getByText('1 unread').waitFor({ timeout: 20_000 })
    await chatButton.click()
    await bobRow.locator('ol.messages li.in', { hasText: 'are you there?' }).waitFor()
    await chatButton.getByText('unread').waitFor({ state: 'detached' })
    const unread = JSON.parse(await cli(alice.home, ['chat', '--inbox', '--json', '--peek'])) as { messages: unknown[] }
    assert.equal(unread.messages.length, 0, 'the chat app knows they were read')
  })

  test('typing fast: each message goes out whole and in order, and the conversation follows to the newest', async () => {
    const box = page.getByRole('textbox', { name: 'Message to bob' })
    const sent = Array.from({ length: 30 }, (_, i) => `quick ${i}`)
    for (const text of sent) {
      // the next message is typed while the last one's send is still on its way
      await box.pressSequentially(text, { delay: 2 })
      await box.press('Enter')
    }
    await bobRow.locator('ol.messages li.out', { hasText: sent.at(-1) }).waitFor({ timeout: 20_000 })
    await waitFor('all of them at bob', async () => {
      const inbox = JSON.parse(await cli(bob.home, ['chat', '--inbox', '--json', '--peek'])) as { messages: Array<{ message: { text: string } }> }
      const texts = inbox.messages.map(m => m.message.text).filter(t => t.startsWith('quick '))
      return texts.length >= sent.length ? texts : undefined
    }, 20_000, 200).then((texts) => { assert.deepEqual(texts, sent) })
    assert.equal(await box.inputValue(), '')
    const list = bobRow.locator('ol.messages')
    const { top, height, client } = await list.evaluate((el) => ({ top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight }))
    assert.ok(height > client, 'the conversation is longer than its box')
    assert.ok(top + client >= height - 2, `scrolled to the newest: ${top} + ${client} of ${height}`)
    await cli(bob.home, ['chat', '--inbox', '--json']) // read: the next test counts from none
  })

  test('a message over the limit (16 KiB of UTF-8) is refused with the daemon\'s reason, in the page\'s words; the input keeps it', async () => {
    const long = 'é'.repeat(9000) // 18,000 bytes: under the input's 16,000 characters
    if (await bobRow.locator('.chat').count() === 0) await bobRow.getByRole('button', { name: /^Chat/ }).click()
    const input = bobRow.getByRole('textbox', { name: /message/i })
    await input.fill(long)
    await input.press('Enter')
    const alert = bobRow.locator('.chat [role="alert"]')
    await alert.waitFor({ timeout: 20_000 })
    assert.match(await alert.innerText(), /^not sent: "é{60}…": the message is 18000 bytes; the limit is 16384 \(split it, or send it as a file from Files\)$/)
    assert.equal(await input.inputValue(), long)
    await input.fill('')
  })

  test('a message and a file to bob while he is offline wait, saying so, and are delivered when he is back', async () => {
    await bobD.stop()
    await bobRow.getByText('offline').waitFor({ timeout: 30_000 })
    const box = page.getByRole('textbox', { name: 'Message to bob' })
    await box.fill('while you were away')
    await box.press('Enter')
    const mine = bobRow.locator('ol.messages li.out', { hasText: 'while you were away' })
    await mine.waitFor()
    assert.equal(await mine.getAttribute('data-state'), 'queued')
    // a file: the daemon retries by itself, and the page says so rather than asking the user to try again
    const src = tempDir('cspace-ui-away-src-')
    const sum = writeRandomFile(join(src, 'away.txt'), 5000)
    await bobRow.getByRole('button', { name: /^Files/ }).click()
    await bobRow.locator('.dropzone').waitFor()
    await dropOnBob(join(src, 'away.txt'))
    const away = bobRow.locator('li[data-outgoing="away.txt"]')
    await away.getByText(/not sent yet: .+; trying again by itself/).waitFor({ timeout: 30_000 })
    assert.doesNotMatch(await away.innerText(), /try again when/)

    bobD = await startDaemon(bob.home, boot)
    await waitOnline(alice.home, 'bob')
    await bobRow.locator('li[data-outgoing="away.txt"][data-state="done"]').waitFor({ timeout: 60_000 })
    assert.equal(await sha256File(join(bobDownloads, 'away.txt')), sum)
    await bobRow.getByRole('button', { name: /^Chat/ }).click()
    await bobRow.locator('ol.messages li.out[data-state="delivered"]', { hasText: 'while you were away' }).waitFor({ timeout: 60_000 })
  })

  test('a 20 MiB file dropped on bob\'s row arrives intact, and the progress reaches 100%', async () => {
    const src = tempDir('cspace-ui-src-')
    const sum = writeRandomFile(join(src, 'holiday.mov'), 20 * 1024 * 1024)
    await bobRow.getByRole('button', { name: 'Files' }).click()
    const zone = bobRow.locator('.dropzone')
    await zone.waitFor()
    await dropOnBob(join(src, 'holiday.mov'))
    const sent = bobRow.locator('li[data-outgoing="holiday.mov"]')
    await sent.waitFor({ timeout: 20_000 })
    await bobRow.locator('li[data-outgoing="holiday.mov"][data-state="done"]').waitFor({ timeout: 60_000 })
    assert.equal(await sent.getByRole('progressbar').getAttribute('value'), '100')
    await sent.getByText('100%').waitFor()
    assert.equal(await sha256File(join(bobDownloads, 'holiday.mov')), sum)
    await page.screenshot({ path: join(SCREENSHOTS, 'files.png'), fullPage: true })
    // the copy staged for sending is gone
    await waitFor('the staged upload to be removed', () => readdirSync(join(alice.home, 'apps', 'files', 'uploads')).length === 0)
  })

  test('a file bob sends is offered in the page; alice accepts it there, and it arrives intact', async () => {
    const src = tempDir('cspace-ui-bob-src-')
    const sum = writeRandomFile(join(src, 'notes.pdf'), 3 * 1024 * 1024 + 11)
    const sending = runCli(bob.home, ['send', 'alice', join(src, 'notes.pdf')])
    const offer = page.locator('li[data-state="pending"]', { hasText: 'notes.pdf' })
    await offer.waitFor({ timeout: 30_000 })
    await offer.getByRole('button', { name: 'Accept notes.pdf' }).click()
    const r = await sending
    assert.equal(r.code, 0, r.stderr)
    await page.locator('li[data-state="complete"]', { hasText: `saved as notes.pdf in ${aliceDownloads}` }).waitFor({ timeout: 20_000 })
    assert.equal(await sha256File(join(aliceDownloads, 'notes.pdf')), sum)

    // a sender gone half way: the page shows the transfer waiting for them (not a stale rate), and a new connection completes it
    const half = randomBytes(2 * 65536)
    const frames = await sentHalfway('half.bin', half)
    const resent = await rawSession(bob.home, 'alice', frames)
    assert.equal(resent.at(-1)?.type, FrameType.DONE, JSON.stringify(resent))
    await page.locator('li[data-state="complete"]', { hasText: 'half.bin' }).waitFor({ timeout: 20_000 })
    assert.deepEqual(readFileSync(join(aliceDownloads, 'half.bin')), half)
    // removed from a terminal, it leaves the page too
    const halfId = (JSON.parse(await cli(alice.home, ['transfers', '--json'])) as Array<{ id: string, paths: string[] }>).find(t => t.paths[0] === 'half.bin')!.id
    await cli(alice.home, ['transfers', 'remove', halfId])
    await page.locator('li[data-incoming]', { hasText: 'half.bin' }).waitFor({ state: 'detached', timeout: 20_000 })

    // a sender gone for good: alice stops it in the page, and what arrived is deleted
    await sentHalfway('gone.bin', randomBytes(2 * 65536))
    const waiting = page.locator('li[data-state="accepted"]', { hasText: 'gone.bin' })
    const goneId = (JSON.parse(await cli(alice.home, ['transfers', '--json'])) as Array<{ id: string, paths: string[] }>).find(t => t.paths[0] === 'gone.bin')!.id
    assert.equal(existsSync(join(aliceDownloads, '.cspace-partial', goneId)), true, 'half of it is on disk')
    await waiting.getByRole('button', { name: 'Stop and delete gone.bin' }).click()
    await page.locator('li[data-incoming]', { hasText: 'gone.bin' }).waitFor({ state: 'detached', timeout: 20_000 })
    assert.equal(existsSync(join(aliceDownloads, '.cspace-partial', goneId)), false, 'and deleted')
    assert.equal(existsSync(join(aliceDownloads, 'gone.bin')), false)

    // and one declined: bob's command says so, nothing lands
    writeRandomFile(join(src, 'spam.bin'), 1000)
    const refused = runCli(bob.home, ['send', 'alice', join(src, 'spam.bin')])
    const second = page.locator('li[data-state="pending"]', { hasText: 'spam.bin' })
    await second.waitFor({ timeout: 30_000 })
    await second.getByRole('button', { name: 'Decline' }).click()
    const out = await refused
    assert.notEqual(out.code, 0)
    assert.match(out.stderr, /declined/)
    assert.equal(existsSync(join(aliceDownloads, 'spam.bin')), false)
  })

  test('a prompted connection: the page shows who asks, with their fingerprint, and allowing it lets the session through', async () => {
    await cli(alice.home, ['expose', 'echo', '--exec', 'cat'])
    await cli(alice.home, ['rules', 'add', 'prompt', 'bob', 'echo'])
    const connecting = runCli(bob.home, ['connect', 'alice', 'echo'], { input: 'ping through a prompt\n' })
    const prompt = page.locator('section[aria-labelledby="requests"] li', { hasText: 'echo' })
    await prompt.waitFor({ timeout: 30_000 })
    await prompt.getByText(bob.fingerprint).waitFor()
    assert.match(await prompt.innerText(), /bob/)
    await page.screenshot({ path: join(SCREENSHOTS, 'prompt.png'), fullPage: true })
    await prompt.getByRole('button', { name: 'Allow' }).click()
    const r = await connecting
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'ping through a prompt\n')
    await prompt.waitFor({ state: 'detached' })
  })

  test('a stranger\'s chat is asked about as "A stranger", with their fingerprint; allowed, the message arrives', async () => {
    const { stranger: carol, sending, prompt } = await strangerChats('carol', 'hello from a stranger')
    assert.match(await prompt.innerText(), new RegExp(`^A stranger \\(${carol.fingerprint}\\) wants to use chat`))
    await prompt.getByRole('button', { name: 'Allow', exact: true }).click()
    const r = await sending
    assert.equal(r.code, 0, r.stderr)
    const inbox = JSON.parse(await cli(alice.home, ['chat', '--inbox', '--json', '--peek'])) as { messages: Array<{ message: { text: string } }> }
    assert.ok(inbox.messages.some(m => m.message.text === 'hello from a stranger'))
  })

  test('a stranger let in and added as a contact in one step: a name taken is refused and the request waits; their message shows under the new contact', async () => {
    const { stranger: dave, sending, prompt } = await strangerChats('dave', 'hello, I am dave')
    await prompt.getByText(dave.userId).waitFor()
    const name = prompt.getByRole('textbox', { name: 'Or allow, and add them to your contacts as' })
    await name.fill('bob')
    await prompt.getByRole('button', { name: 'Allow and add' }).click()
    await page.getByRole('alert').getByText('the name "bob" is already a contact').waitFor()
    assert.equal(await prompt.count(), 1, 'still waiting for an answer')
    await name.fill('dave')
    await prompt.getByRole('button', { name: 'Allow and add' }).click()
    const r = await sending
    assert.equal(r.code, 0, r.stderr)
    const daveRow = page.locator('li[data-contact="dave"]')
    await daveRow.waitFor({ timeout: 20_000 })
    await daveRow.getByRole('button', { name: /^Chat/ }).click()
    await daveRow.locator('ol.messages li.in', { hasText: 'hello, I am dave' }).waitFor({ timeout: 20_000 })
    await daveRow.getByRole('button', { name: /^Chat/ }).click()
  })

  test('status: the connection to bob is direct; a forward and an expose added in the page work, and removing them stops them', async () => {
    const status = page.locator('section[aria-labelledby="status"]')
    await status.locator('li[data-connection="bob"]', { hasText: 'direct' }).first().waitFor({ timeout: 20_000 })

    // an expose: alice offers a local TCP echo server as "echo-tcp"
    const echo = createServer((s) => s.pipe(s)).listen(0, '127.0.0.1')
    await once(echo, 'listening')
    const echoPort = (echo.address() as AddressInfo).port
    await status.getByRole('textbox', { name: 'Service name' }).fill('echo-tcp')
    await status.getByRole('textbox', { name: /^Local address/ }).fill(`127.0.0.1:${echoPort}`)
    // at most one session at once: a cap the page refuses to send out of range
    const cap = status.getByRole('textbox', { name: /^Sessions at once/ })
    await cap.fill('0')
    await status.getByRole('button', { name: 'Add expose' }).click()
    await status.getByRole('alert').filter({ hasText: 'Sessions at once: a whole number from 1 to 65535, or empty for no limit.' }).waitFor()
    await cap.fill('1')
    await status.getByRole('button', { name: 'Add expose' }).click()
    const exposed = status.locator('li[data-expose="echo-tcp"]')
    await exposed.waitFor()
    const viaBob = await runCli(bob.home, ['connect', 'alice', 'echo-tcp'], { input: 'round trip\n' })
    assert.equal(viaBob.stdout, 'round trip\n', viaBob.stderr)
    // the counts follow sessions live (tunnels:activity), with no reload of the page
    await status.locator('li[data-expose="echo-tcp"]', { hasText: '(0 open of at most 1, 0 refused)' }).waitFor({ timeout: 10_000 })
    const held = spawnCspace(['connect', 'alice', 'echo-tcp'], { home: bob.home, stdin: 'pipe' })
    held.stdin!.write('held\n')
    const [echoed] = await once(held.stdout!, 'data') as [Buffer]
    assert.equal(echoed.toString(), 'held\n')
    await status.locator('li[data-expose="echo-tcp"]', { hasText: '(1 open of at most 1, 0 refused)' }).waitFor({ timeout: 10_000 })
    const second = await runCli(bob.home, ['connect', 'alice', 'echo-tcp'], { input: 'x\n' })
    assert.equal(second.code, 1)
    assert.match(second.stderr, /service "echo-tcp" has its 1 sessions open/)
    await status.locator('li[data-expose="echo-tcp"]', { hasText: '(1 open of at most 1, 1 refused)' }).waitFor({ timeout: 10_000 })
    held.stdin!.end()
    await once(held, 'exit')
    await status.locator('li[data-expose="echo-tcp"]', { hasText: '(0 open of at most 1, 1 refused)' }).waitFor({ timeout: 10_000 })

    // a forward: a local port of alice's to bob's "files"-free service "echo-back" (bob exposes it with the CLI)
    await cli(bob.home, ['expose', 'echo-back', '--exec', 'cat'])
    const port = await freePort()
    await status.getByRole('textbox', { name: 'Local port' }).fill(String(port))
    await status.getByRole('combobox', { name: 'Contact' }).selectOption('bob')
    await status.getByRole('textbox', { name: 'Their service' }).fill('echo-back')
    await status.getByRole('button', { name: 'Add forward' }).click()
    await status.locator(`li[data-forward="${port}"]`).waitFor()
    assert.equal(await roundTrip(port, 'through the forward'), 'through the forward')
    await page.screenshot({ path: join(SCREENSHOTS, 'status.png'), fullPage: true })

    await status.getByRole('button', { name: `Remove forward ${port}` }).click()
    await status.locator(`li[data-forward="${port}"]`).waitFor({ state: 'detached' })
    await waitFor('the forward\'s port to close', async () => !(await portOpen(port)))
    await status.getByRole('button', { name: 'Remove expose echo-tcp' }).click()
    await status.locator('li[data-expose="echo-tcp"]').waitFor({ state: 'detached' })
    const after = await runCli(bob.home, ['connect', 'alice', 'echo-tcp'], { input: 'x\n' })
    assert.notEqual(after.code, 0, 'the service is gone')
    echo.close()
  })

  test('every button in the contact list has a name of its own, saying whose it is (a screen reader lists them apart from their rows)', async () => {
    const snapshot = await page.locator('ul.contacts').ariaSnapshot()
    const names = [...snapshot.matchAll(/button "([^"]+)"/g)].map(m => m[1])
    for (const expected of ['Chat with bob', 'Files with bob', 'Desktop of bob', 'Chat with dave']) assert.ok(names.includes(expected), `${expected} among: ${names.join(', ')}`)
    assert.equal(new Set(names).size, names.length, `a name said twice among: ${names.join(', ')}`)
  })

  test('readable at 200% zoom (a 640 px wide viewport): nothing needs sideways scrolling; the dark theme follows the system', async () => {
    const overflow = async (): Promise<number> => await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number
    await page.setViewportSize({ width: 640, height: 900 })
    for (const tab of ['Chat with bob', 'Files with bob', 'Desktop of bob']) {
      const button = bobRow.getByRole('button', { name: tab, exact: true })
      await button.click()
      assert.equal(await button.getAttribute('aria-expanded'), 'true')
      assert.ok(await overflow() <= 0, `${tab}: the page is ${await overflow()} px wider than the window`)
    }
    await page.emulateMedia({ colorScheme: 'dark' })
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor') as string
    const [r, g, b] = (background.match(/\d+/g) ?? []).map(Number)
    assert.ok(r + g + b < 150, `a dark background, got ${background}`)
    await bobRow.getByRole('button', { name: 'Chat with bob', exact: true }).click()
    await page.screenshot({ path: join(SCREENSHOTS, 'dark-200-percent.png'), fullPage: false })
    await page.emulateMedia({ colorScheme: 'light' })

    // a long name, at 400 px: it wraps, and the buttons stay in the window
    const long = 'bartholomew-featherstonehaugh-cholmondeley-the-third-of-york'
    const other = await makeProfile('long')
    await cli(alice.home, ['contacts', 'add', long, other.userId])
    await page.setViewportSize({ width: 400, height: 900 })
    const longRow = page.locator(`li[data-contact="${long}"]`)
    await longRow.waitFor({ timeout: 20_000 })
    assert.ok(await overflow() <= 0, `a long name: the page is ${await overflow()} px wider than the window`)
    await cli(alice.home, ['contacts', 'remove', long])
    await longRow.waitFor({ state: 'detached', timeout: 20_000 })
    await page.setViewportSize({ width: 1280, height: 720 })
  })
})


/** Sends a line to 127.0.0.1:port and reads it back. */
async function roundTrip (port: number, text: string): Promise<string> {
  const s = connect(port, '127.0.0.1')
  s.end(text)
  let got = ''
  for await (const chunk of s) got += String(chunk)
  return got
}
