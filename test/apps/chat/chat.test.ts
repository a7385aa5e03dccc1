import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { connect } from '../../../src/sdk/index.js'
import { ControlClient } from '../../../src/apps/host/index.js'
import { MAX_CHAT_CONNECTIONS_PER_PEER, MAX_FRAME_BYTES, MAX_TEXT_BYTES, newMessageId, type ChatMessage, type Inbox, type TypingEvent } from '../../../src/apps/chat/index.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, openSync, writeSync, closeSync, unlinkSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupAll, makeProfile, runCli, spawnCspace, spawnCspaceOnTerminal, startDaemon, startTwoUsers, waitOnline, type Profile, type RunningDaemon } from '../../helpers/cli.js'
import { waitFor } from '../../helpers/wait.js'
import { tempDir } from '../../helpers/files.js'
import { JsonLineReader } from '../../../src/apps/host/index.js'

async function inbox (home: string, peek = false): Promise<Inbox> {
  const r = await runCli(home, ['chat', '--inbox', '--json', ...(peek ? ['--peek'] : [])])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as Inbox
}

async function history (home: string, user: string): Promise<ChatMessage[]> {
  const c = await ControlClient.open('chat', home)
  try { return (await c.request<{ messages: ChatMessage[] }>('history', { with: user, limit: 1000 })).messages } finally { c.close() }
}

/** A hand-written chat peer: raw frames over connect(user, 'chat'), replies collected as parsed lines. */
async function rawPeer (home: string, user: string): Promise<{ write: (b: string | Buffer) => void, replies: Array<Record<string, unknown>>, closed: () => boolean, end: () => void }> {
  const socket = await connect(user, 'chat', { home })
  const reader = new JsonLineReader(1 << 20)
  const replies: Array<Record<string, unknown>> = []
  let closed = false
  socket.on('data', (b: Buffer) => replies.push(...reader.push(b)))
  // the service hangs up by ending its side (the SDK socket is half-open: our side stays writable)
  socket.on('end', () => { closed = true; socket.end() })
  socket.on('error', () => {})
  return { write: (b) => socket.write(b), replies, closed: () => closed, end: () => socket.end() }
}

function rssMiB (pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
}

/** CPU ms a process used over the next `ms` (utime + stime from /proc, in 10 ms ticks). */
async function cpuMsOver (pid: number, ms: number): Promise<number> {
  const ticks = (): number => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]) }
  const t0 = ticks()
  await new Promise(resolve => setTimeout(resolve, ms))
  return (ticks() - t0) * 10
}

function msgFrame (text: string, id = newMessageId()): string {
  return JSON.stringify({ v: 1, t: 'msg', id, at: Date.now(), text }) + '\n'
}

describe('chat: messages between two daemons', () => {
  let router: RunningDaemon
  let alice: Profile
  let bob: Profile
  let aliceD: RunningDaemon
  let bobD: RunningDaemon

  before(async () => {
    ;({ router, alice, bob, aliceD, bobD } = await startTwoUsers())
  })

  after(async () => { await cleanupAll() })

  test('--send is delivered and acknowledged; status counts it unread; --inbox shows it once', async () => {
    const sent = await runCli(alice.home, ['chat', 'bob', '--send', 'hello bob', '--wait', '20'])
    assert.equal(sent.code, 0, sent.stderr)
    assert.equal(sent.stdout, 'delivered to bob\n')

    const status = await runCli(bob.home, ['status', '--json'])
    assert.deepEqual(JSON.parse(status.stdout).chat.unread.map((u: { name: string, count: number }) => [u.name, u.count]), [['alice', 1]])
    const text = await runCli(bob.home, ['status'])
    assert.match(text.stdout, /unread messages[^\n]*\n {2}alice +1\n/)

    const first = await inbox(bob.home)
    assert.deepEqual(first.messages.map(m => [m.name, m.message.text, m.message.direction]), [['alice', 'hello bob', 'in']])
    assert.deepEqual((await inbox(bob.home)).messages, [], 'read messages are not shown again')
    const mine = await history(alice.home, 'bob')
    assert.equal(mine.at(-1)?.state, 'delivered')
    assert.equal(mine.at(-1)?.id, first.messages[0].message.id, 'both sides keep the same message id')
  })

  test('the interactive window shows history, sends typed lines, marks delivery and shows replies as they come', async () => {
    const win: ChildProcess = spawnCspace(['chat', 'bob'], { home: alice.home, stdin: 'pipe' })
    let out = ''
    win.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    await waitFor('the window opens with its history', () => out.includes('chatting with bob') && out.includes('you: hello bob ✓'), 20_000)
    win.stdin?.write('line one from the window\n')
    await waitFor('the typed line is marked delivered', () => out.includes('✓ delivered "line one from the window"'), 20_000)
    const reply = await runCli(bob.home, ['chat', 'alice', '--send', 'reply from bob\n\u001b[31mred?'])
    assert.equal(reply.code, 0, reply.stderr)
    await waitFor('the reply appears in the open window', () => out.includes('bob: reply from bob'), 20_000)
    assert.ok(!out.includes('\u001b[31m'), 'terminal escapes from the peer are neutralised')
    assert.ok(out.includes('\uFFFD[31mred?'))
    win.stdin?.end()
    const [code] = await new Promise<[number | null]>((resolve) => win.once('exit', (c) => resolve([c])))
    assert.equal(code, 0)
    // shown in the open window = read: it does not wait in the inbox
    await waitFor('the reply counted read', async () => (await inbox(alice.home, true)).messages.length === 0 ? true : undefined, 10_000)
    const bobs = (await history(bob.home, 'alice')).filter(m => m.direction === 'in').map(m => m.text)
    assert.equal(bobs.filter(t => t === 'line one from the window').length, 1, 'stored once')
  })

  test('typing notices reach the other side\'s front ends', async () => {
    const watcher = await ControlClient.open('chat', bob.home)
    const typing: TypingEvent[] = []
    watcher.onEvent((event, data) => { if (event === 'typing') typing.push(data as TypingEvent) })
    await watcher.request('subscribe')
    const typist = await ControlClient.open('chat', alice.home)
    await typist.request('typing', { to: 'bob', on: true })
    await waitFor('bob sees alice typing', () => typing.find(t => t.on && t.name === 'alice'), 20_000)
    typist.close()
    watcher.close()
  })

  test('a flood of typing notices reaches the front ends as a few, at most one each 250 ms, the latest always', async () => {
    const watcher = await ControlClient.open('chat', bob.home)
    const typing: TypingEvent[] = []
    watcher.onEvent((event, data) => { if (event === 'typing' && (data as TypingEvent).name === 'alice') typing.push(data as TypingEvent) })
    await watcher.request('subscribe')
    try {
      // each notice once asked bob's daemon API for the contact list (5,000 requests open at once)
      const peer = await rawPeer(alice.home, 'bob')
      peer.write(JSON.stringify({ v: 1, t: 'typing', on: true }).concat('\n').repeat(5000))
      const id = newMessageId()
      peer.write(msgFrame('typed', id))
      await waitFor('the message after the notices acknowledged', () => peer.replies.find(r => r.t === 'ack' && r.id === id), 20_000)
      peer.write(JSON.stringify({ v: 1, t: 'typing', on: false }) + '\n')
      await waitFor('bob told alice stopped', () => typing.find(t => !t.on), 20_000)
      const on = typing.filter(t => t.on).length
      assert.ok(on >= 1 && on <= 3, `${on} "typing" events for 5,000 notices`)
      // alternating: every notice a change, ending "on"
      const before = typing.length
      peer.write(Array.from({ length: 5000 }, (_, i) => JSON.stringify({ v: 1, t: 'typing', on: i % 2 === 1 }) + '\n').join(''))
      const id2 = newMessageId()
      peer.write(msgFrame('typed again', id2))
      await waitFor('the message after them acknowledged', () => peer.replies.find(r => r.t === 'ack' && r.id === id2), 20_000)
      await waitFor('bob told alice types, last', () => typing.length > before && typing.at(-1)?.on === true ? true : undefined, 20_000)
      assert.ok(typing.length - before <= 6, `${typing.length - before} events for 5,000 alternating notices`)
      peer.end()
    } finally {
      watcher.close()
    }
  })

  test('on a terminal, keys pressed in the window tell the other side, and their typing shows in the window', async () => {
    const watcher = await ControlClient.open('chat', bob.home)
    const typing: TypingEvent[] = []
    watcher.onEvent((event, data) => { if (event === 'typing') typing.push(data as TypingEvent) })
    await watcher.request('subscribe')
    const win = spawnCspaceOnTerminal(['chat', 'bob'], { home: alice.home })
    let out = ''
    win.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    try {
      await waitFor('the window opens', () => out.includes('chatting with bob'), 20_000)
      win.stdin?.write('hel')
      await waitFor('bob is told alice is typing', () => typing.find(t => t.on && t.name === 'alice'), 20_000)
      await watcher.request('typing', { to: 'alice', on: true })
      await waitFor('the window shows bob typing', () => out.includes('bob is typing…'), 20_000)
    } finally {
      win.kill()
      watcher.close()
    }
  })

  test('messages to an offline contact are queued and delivered once, across a crash of the sender and the recipient\'s return', async () => {
    await inbox(bob.home) // read what the earlier tests left
    await bobD.stop()
    const queued = await runCli(alice.home, ['chat', 'bob', '--send', 'while you were away', '--wait', '0'])
    assert.equal(queued.code, 0, queued.stderr)
    assert.match(queued.stdout, /^queued for bob; the daemon delivers it as soon as bob can take it\n$/)
    const second = await runCli(alice.home, ['chat', 'bob', '--send', 'and a second one', '--wait', '0'])
    assert.equal(second.code, 0, second.stderr)
    // the sender's daemon dies with the messages queued; they are in its store
    await aliceD.kill()
    bobD = await startDaemon(bob.home, ['--bootstrap', router.addresses[0]])
    aliceD = await startDaemon(alice.home, ['--bootstrap', router.addresses[0]])
    await waitFor('both queued messages arrive', async () => {
      const got = (await inbox(bob.home, true)).messages.map(m => m.message.text)
      return got.includes('while you were away') && got.includes('and a second one') ? got : undefined
    }, 60_000, 500)
    const got = (await inbox(bob.home)).messages.map(m => m.message.text)
    assert.deepEqual(got, ['while you were away', 'and a second one'], 'in order, each once')
    await waitFor('alice sees them delivered', async () => (await history(alice.home, 'bob')).filter(m => m.direction === 'out').every(m => m.state === 'delivered') ? true : undefined, 20_000)
  })

  test('a message re-sent after a lost ack is stored once and acknowledged both times', async () => {
    const peer = await rawPeer(alice.home, 'bob')
    const id = newMessageId()
    peer.write(msgFrame('said twice', id))
    peer.write(msgFrame('said twice', id))
    await waitFor('two acks', () => peer.replies.filter(r => r.t === 'ack' && r.id === id).length === 2 ? true : undefined, 20_000)
    peer.end()
    assert.equal((await history(bob.home, 'alice')).filter(m => m.id === id).length, 1)
  })

  test(`a peer may keep ${MAX_CHAT_CONNECTIONS_PER_PEER} chat connections open at most; the next is told BUSY, and closing one makes room`, async () => {
    /** A connection, and its first answer: BAD_FRAME to a frame of no known type (stores nothing, keeps the connection) when accepted. */
    const open = async (): Promise<{ peer: Awaited<ReturnType<typeof rawPeer>>, code: unknown }> => {
      const peer = await rawPeer(alice.home, 'bob')
      peer.write(JSON.stringify({ v: 1, t: 'shout' }) + '\n')
      const first = await waitFor('an answer', () => peer.replies[0], 20_000)
      return { peer, code: first.code }
    }
    const accepted: Array<Awaited<ReturnType<typeof rawPeer>>> = []
    let refused: Awaited<ReturnType<typeof open>> | undefined
    while (refused == null && accepted.length <= MAX_CHAT_CONNECTIONS_PER_PEER) {
      const c = await open()
      if (c.code === 'BAD_FRAME') accepted.push(c.peer)
      else refused = c
    }
    assert.equal(refused?.code, 'BUSY')
    await waitFor('the refused connection is closed', () => refused?.peer.closed() === true ? true : undefined, 20_000)
    // alice's courier may hold one of her places
    assert.ok(accepted.length >= MAX_CHAT_CONNECTIONS_PER_PEER - 1 && accepted.length < MAX_CHAT_CONNECTIONS_PER_PEER + 1, `${accepted.length} accepted`)
    accepted.shift()?.end()
    await waitFor('a place again once one closes', async () => {
      const c = await open()
      if (c.code === 'BAD_FRAME') { accepted.push(c.peer); return true }
      return undefined
    }, 20_000)
    for (const p of accepted) p.end()
  })

  test('bad frames get a clear error; the service keeps serving and stores nothing from them', async () => {
    const before = (await history(bob.home, 'alice')).length
    const peer = await rawPeer(alice.home, 'bob')
    const longId = newMessageId()
    peer.write(msgFrame('x'.repeat(MAX_TEXT_BYTES + 1), longId))
    peer.write(JSON.stringify({ v: 2, t: 'msg' }) + '\n')
    peer.write(JSON.stringify({ v: 1, t: 'msg', id: 'not-hex', at: Date.now(), text: 'hi' }) + '\n')
    peer.write(JSON.stringify({ v: 1, t: 'msg', id: newMessageId(), at: 5, text: 'from 1970' }) + '\n')
    peer.write(JSON.stringify({ v: 1, t: 'msg', id: newMessageId(), at: Date.now(), text: '   ' }) + '\n')
    peer.write(JSON.stringify({ v: 1, t: 'shout' }) + '\n')
    const goodId = newMessageId()
    peer.write(msgFrame('still listening?', goodId))
    await waitFor('six errors and one ack', () => peer.replies.length >= 7 ? true : undefined, 20_000)
    assert.deepEqual(peer.replies.map(r => r.t === 'error' ? r.code : r.t), ['TOO_LONG', 'UNSUPPORTED_VERSION', 'BAD_FRAME', 'BAD_FRAME', 'EMPTY', 'BAD_FRAME', 'ack'])
    assert.equal(peer.replies[0].id, longId, 'the error names the refused message')
    assert.match(String(peer.replies[0].message), /limit is 16384/)

    // a broken byte stream: invalid UTF-8, then a frame with no end in sight
    const utf8 = await rawPeer(alice.home, 'bob')
    utf8.write(Buffer.concat([Buffer.from('{"v":1,"t":"msg","text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]))
    await waitFor('BAD_UTF8 and hang-up', () => utf8.closed() && utf8.replies.length > 0 ? true : undefined, 20_000)
    assert.equal(utf8.replies[0].code, 'BAD_UTF8')
    const big = await rawPeer(alice.home, 'bob')
    big.write('{"v":1,"t":"msg","text":"' + 'a'.repeat(MAX_FRAME_BYTES + 10))
    await waitFor('TOO_LONG and hang-up', () => big.closed() && big.replies.length > 0 ? true : undefined, 20_000)
    assert.equal(big.replies[0].code, 'TOO_LONG')
    const truncated = await rawPeer(alice.home, 'bob')
    truncated.write('{"v":1,"t":"msg","id":"')
    truncated.end()

    const after = await history(bob.home, 'alice')
    assert.equal(after.length, before + 1, 'only the good message was stored')
    assert.equal(after.at(-1)?.text, 'still listening?')
    const ok = await runCli(alice.home, ['chat', 'bob', '--send', 'after the noise', '--wait', '20'])
    assert.equal(ok.stdout, 'delivered to bob\n', ok.stderr)
  })

  test('a peer that sends and never reads the replies is held back, not buffered for', async () => {
    // each `{}` line (3 bytes) earns a ~130-byte error reply: unread, they used
    // to pile up in bob's daemon (hundreds of MB) while it went on reading
    const socket = await connect('bob', 'chat', { home: alice.home })
    socket.on('error', () => {})
    const rssBefore = rssMiB(bobD.proc.pid!)
    const chunk = Buffer.from('{}\n'.repeat(20_000))
    let written = 0
    let progressAt = Date.now()
    const more = (): void => {
      while (!socket.destroyed && socket.write(chunk)) written += chunk.length
      written += chunk.length
      progressAt = Date.now()
    }
    socket.on('drain', more)
    more()
    // never read: bob must stop reading too, and the writes stall once the buffers between are full
    await waitFor('the writes to stall', () => socket.writableLength > 0 && Date.now() - progressAt > 3000, 90_000, 200)
    // once bob's daemon has done all it will with what it took, it holds little more than before
    await waitFor('bob\'s daemon to go idle', () => cpuMsOver(bobD.proc.pid!, 1000).then(ms => ms < 50), 120_000, 0)
    const grown = rssMiB(bobD.proc.pid!) - rssBefore
    assert.ok(grown < 64, `bob's daemon grew by ${grown} MiB answering ${written} bytes of bad lines`)
    socket.destroy()
    const ok = await runCli(alice.home, ['chat', 'bob', '--send', 'after the flood', '--wait', '20'])
    assert.equal(ok.stdout, 'delivered to bob\n', ok.stderr)
  })

  test('a recipient whose disk is full refuses to acknowledge; the message waits and arrives once there is room', async () => {
    const exec = promisify(execFile)
    const dana = await makeProfile('dana')
    await runCli(dana.home, ['contacts', 'add', 'alice', alice.userId])
    await runCli(alice.home, ['contacts', 'add', 'dana', dana.userId])
    const chatDir = join(dana.home, 'apps', 'chat')
    mkdirSync(chatDir, { recursive: true, mode: 0o700 })
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', chatDir])
    let danaD: RunningDaemon | undefined
    const filler = join(chatDir, 'filler')
    try {
      danaD = await startDaemon(dana.home, ['--bootstrap', router.addresses[0]])
      await waitOnline(alice.home, 'dana')
      const fd = openSync(filler, 'w')
      try { for (;;) writeSync(fd, Buffer.alloc(64 * 1024)) } catch (err) { assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC') } finally { closeSync(fd) }
      const sent = await runCli(alice.home, ['chat', 'dana', '--send', 'is there room?', '--wait', '3'])
      assert.equal(sent.code, 0, sent.stderr)
      assert.match(sent.stdout, /^queued for dana/, 'no ack without a stored message')
      assert.deepEqual((await inbox(dana.home, true)).messages, [])
      unlinkSync(filler)
      const got = await waitFor('the message arrives once the disk has room', async () => (await inbox(dana.home, true)).messages.find(m => m.message.text === 'is there room?'), 60_000, 300)
      assert.equal(got.name, 'alice')
      await waitFor('alice sees it delivered', async () => (await history(alice.home, 'dana')).at(-1)?.state === 'delivered' ? true : undefined, 20_000)
      assert.equal((await inbox(dana.home, true)).messages.length, 1, 'stored once')
    } finally {
      await danaD?.kill()
      await exec('umount', [chatDir])
    }
  })

  test('bad command lines get one-line errors and exit 2', async () => {
    const tooLong = await runCli(alice.home, ['chat', 'bob', '--send', 'y'.repeat(MAX_TEXT_BYTES + 1)])
    assert.equal(tooLong.code, 2)
    assert.match(tooLong.stderr, /^cspace: the message is 16385 bytes; the limit is 16384/)
    assert.equal(tooLong.stderr.trim().split('\n').length, 1)
    const nobody = await runCli(alice.home, ['chat', 'nobody', '--send', 'hi'])
    assert.equal(nobody.code, 2)
    assert.match(nobody.stderr, /no contact named "nobody"/)
    assert.equal((await runCli(alice.home, ['chat'])).code, 2)
    assert.equal((await runCli(alice.home, ['chat', 'bob', '--inbox'])).code, 2)
    assert.equal((await runCli(alice.home, ['chat', 'bob', '--send', 'x', '--wait', 'soon'])).code, 2)
    const empty = await runCli(alice.home, ['chat', 'bob', '--send', ''])
    assert.equal(empty.code, 2)
    assert.match(empty.stderr, /the message is empty/)
    const binary = await runCli(alice.home, ['chat', 'bob', '--send', '-'], { input: Buffer.from([0x68, 0x69, 0xff, 0xfe]) })
    assert.equal(binary.code, 2)
    assert.equal(binary.stderr, 'cspace: the message on stdin is not UTF-8 text; a chat message is text (send a file with `cspace send`)\n')
    const longName = await runCli(alice.home, ['chat', 'b'.repeat(5000), '--send', 'hi'])
    assert.equal(longName.code, 2)
    assert.equal(longName.stderr, 'cspace: "to" is over 4096 characters: no contact name or user ID is that long\n')
    const noProfile = await runCli(join(tempDir('cspace-chat-noprofile-'), 'nothing'), ['chat', 'bob', '--send', 'hi'])
    assert.equal(noProfile.code, 1)
    assert.match(noProfile.stderr, /^cspace: no identity at .*identity\.key; run `cspace init` first\n$/)
  })

  test('a chat from a stranger arrives as a contact request; accepting adds the contact and delivers it', async () => {
    const carol = await makeProfile('carol')
    await runCli(carol.home, ['contacts', 'add', 'bob', bob.userId])
    await startDaemon(carol.home, ['--bootstrap', router.addresses[0]])
    await waitOnline(carol.home, 'bob')
    const sent = await runCli(carol.home, ['chat', 'bob', '--send', 'hi, I am carol', '--wait', '0'])
    assert.equal(sent.code, 0, sent.stderr)
    const request = await waitFor('bob sees a chat request from a stranger', async () => (await inbox(bob.home, true)).requests[0], 60_000, 300)
    assert.equal(request.userId, carol.userId)
    const text = await runCli(bob.home, ['chat', '--inbox', '--peek'])
    assert.match(text.stdout, new RegExp(`chat request from a stranger \\(fingerprint ${carol.fingerprint}\\): \`cspace requests allow ${request.id} --add-contact NAME\``))
    const accepted = await runCli(bob.home, ['requests', 'allow', request.id, '--add-contact', 'carol'])
    assert.equal(accepted.code, 0, accepted.stderr)
    assert.match(accepted.stdout, /^added contact carol\nallowed/)
    const got = await waitFor('carol\'s message arrives, under her new name', async () => (await inbox(bob.home, true)).messages.find(m => m.message.text === 'hi, I am carol'), 60_000, 300)
    assert.equal(got.name, 'carol')
  })

  test('a stranger bob denies is told so once: the message fails, and bob is not asked again', async () => {
    const dave = await makeProfile('dave')
    await runCli(dave.home, ['contacts', 'add', 'bob', bob.userId])
    await startDaemon(dave.home, ['--bootstrap', router.addresses[0]])
    await waitOnline(dave.home, 'bob')
    assert.equal((await runCli(dave.home, ['chat', 'bob', '--send', 'hi, I am dave', '--wait', '0'])).code, 0)
    const request = await waitFor('bob sees dave\'s request', async () => (await inbox(bob.home, true)).requests.find(r => r.userId === dave.userId), 60_000, 300)
    assert.equal((await runCli(bob.home, ['requests', 'deny', request.id])).code, 0)
    // failed, not queued: nothing is left to retry, so no new question reaches bob
    const failed = await waitFor('dave\'s message failed', async () => (await history(dave.home, 'bob')).find(m => m.state === 'failed'), 30_000, 200)
    assert.equal(failed.text, 'hi, I am dave')
    assert.match(failed.error ?? '', /did not allow you to use "chat"/)
    assert.equal((await history(dave.home, 'bob')).filter(m => m.state === 'queued').length, 0)
  })

  test('the window ends, with a one-line error, when the daemon under it stops', async () => {
    const win: ChildProcess = spawnCspace(['chat', 'bob'], { home: alice.home, stdin: 'pipe' })
    let out = ''
    let err = ''
    win.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    win.stderr?.on('data', (b: Buffer) => { err += b.toString() })
    await waitFor('the window opens', () => out.includes('chatting with bob'), 20_000)
    await aliceD.stop() // stdin stays open: only the daemon's going can end the window
    assert.equal(await waitFor('the window to end', () => win.exitCode ?? undefined, 15_000, 50), 1)
    assert.match(err, /^cspace: the chat service stopped \(did the daemon stop\?\)\n$/)
  })
})
