import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import WebSocket from 'ws'
import { cleanupAll, pendingRequests, runCli, spawnCspace, startTwoUsers, type Profile } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { fbUpdateRequest, missingDesktopBinaries, startX11vncServer, startXvfb, type X11vncServer, type Xvfb } from '../helpers/xvfb.js'
import { ASKING_MESSAGE, closeReason, MAX_CLOSE_REASON_BYTES } from '../../src/daemon/api/connect-ws.js'

const missing = missingDesktopBinaries()
const WIDTH = 1024
const HEIGHT = 768
/** Far above what the windows and socket buffers on the way hold (a few MiB each), far below what an unpaused loopback moves in seconds. */
const HELD_BACK_BOUND = 64 * 1024 * 1024

interface Api { port: number, token: string }
function apiOf (home: string): Api {
  return { port: JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')).apiPort, token: readFileSync(join(home, 'api-token'), 'utf8').trim() }
}

function connectWs (api: Api, query: string, protocols: string[] = []): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${api.port}/v1/connect/ws?${query}`, protocols, { headers: { authorization: `Bearer ${api.token}` } })
}

async function closeOf (ws: WebSocket): Promise<{ code: number, reason: string }> {
  const [code, reason] = await once(ws, 'close') as [number, Buffer]
  return { code, reason: String(reason) }
}

/** The HTTP status an upgrade was refused with. */
async function upgradeStatus (ws: WebSocket): Promise<number> {
  return await new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume() })
    ws.once('open', () => { ws.terminate(); reject(new Error('the upgrade was accepted')) })
    ws.once('error', () => {})
  })
}

/** A WebSocket's binary messages as one byte stream, read in exact counts as an RFB client reads. */
function byteReader (ws: WebSocket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0)
  let closed = false
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    assert.ok(isBinary, 'the daemon sends binary messages only')
    buffered = Buffer.concat([buffered, data])
  })
  ws.on('close', () => { closed = true })
  return async (n) => {
    await waitFor(`${n} bytes from the WebSocket (have ${buffered.length})`, () => {
      if (buffered.length < n && closed) throw new Error(`closed after ${buffered.length} of ${n} bytes`)
      return buffered.length >= n
    }, 20_000, 5)
    const out = buffered.subarray(0, n)
    buffered = buffered.subarray(n)
    return out
  }
}

/** Waits until `count()` has not moved for a second, or has passed HELD_BACK_BOUND; returns where it got. */
async function settles (what: string, count: () => number): Promise<number> {
  let last = -1
  return await waitFor(what, () => {
    const now = count()
    const still = now === last && now > 0
    last = now
    return still || now >= HELD_BACK_BOUND ? now : undefined
  }, 60_000, 1000)
}

/** A TCP service on bob's side for the bridge tests: each connection handled by `onConnection`. */
async function tcpService (onConnection: (s: Socket) => void): Promise<{ port: number, server: Server }> {
  const server = createServer((s) => { s.on('error', () => {}); onConnection(s) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as { port: number }).port, server }
}

describe('GET /v1/connect/ws: connect(user, service) for a browser', () => {
  let alice: Profile
  let bob: Profile
  let api: Api
  let xvfb: Xvfb | undefined
  let vnc: X11vncServer | undefined
  let share: ChildProcess | undefined
  const servers: Server[] = []
  const sockets = new Set<WebSocket>()
  const track = (ws: WebSocket): WebSocket => { sockets.add(ws); ws.on('error', () => {}); return ws }

  /** bob offers `service` as a TCP service handled by `onConnection`. */
  async function bobExposes (service: string, onConnection: (s: Socket) => void): Promise<void> {
    const { port, server } = await tcpService(onConnection)
    servers.push(server)
    const r = await runCli(bob.home, ['expose', service, `127.0.0.1:${port}`])
    assert.equal(r.code, 0, r.stderr)
  }

  before(async () => {
    ;({ alice, bob } = await startTwoUsers())
    api = apiOf(alice.home)
  })

  after(async () => {
    for (const ws of sockets) ws.terminate()
    for (const s of servers) s.close()
    await cleanupAll()
    await vnc?.stop()
    await xvfb?.stop()
  })

  test('an RFB 3.8 handshake through the WebSocket reaches bob\'s shared Xvfb at its size', { skip: missing.length > 0 ? `needs ${missing.join(' and ')}` : false }, async () => {
    xvfb = await startXvfb(`${WIDTH}x${HEIGHT}x24`)
    vnc = await startX11vncServer(xvfb.display)
    assert.equal((await runCli(bob.home, ['rules', 'add', 'allow', 'alice', 'desktop'])).code, 0)
    share = spawnCspace(['desktop', 'share', '--vnc', `127.0.0.1:${vnc.port}`], { home: bob.home })
    let out = ''
    share.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    await waitFor('bob sharing his desktop', () => /sharing your desktop/.test(out), 30_000, 50)

    // noVNC asks for no subprotocol since 1.3; older viewers ask for "binary", which is what this is
    const ws = track(connectWs(api, 'user=bob&service=desktop', ['binary']))
    const read = byteReader(ws)
    await once(ws, 'open')
    assert.equal(ws.protocol, 'binary')
    assert.match((await read(12)).toString('latin1'), /^RFB 003\.\d{3}\n$/)
    ws.send(Buffer.from('RFB 003.008\n'))
    const types = [...await read((await read(1))[0])]
    assert.ok(types.includes(1), `security None offered (got ${types.join(',')})`)
    ws.send(Buffer.from([1]))
    assert.equal((await read(4)).readUInt32BE(0), 0, 'SecurityResult OK')
    ws.send(Buffer.from([1])) // ClientInit, shared
    const init = await read(24)
    assert.deepEqual([init.readUInt16BE(0), init.readUInt16BE(2)], [WIDTH, HEIGHT])
    await read(init.readUInt32BE(20)) // the desktop's name
    ws.send(fbUpdateRequest(WIDTH, HEIGHT))
    assert.equal((await read(4))[0], 0, 'a FramebufferUpdate comes back')
    ws.close()
    assert.equal((await closeOf(ws)).code, 1005, 'closed by the page, without a code')
  })

  test('refusals close the WebSocket with a 4xxx code and the daemon\'s one-line reason', async () => {
    assert.equal((await runCli(bob.home, ['rules', 'add', 'deny', 'alice', 'secret'])).code, 0)
    const cases: Array<[string, number, RegExp]> = [
      ['user=bob&service=nosuch', 4404, /^bob has no service "nosuch"/],
      ['user=bob&service=secret', 4403, /^bob did not allow you to use "secret"/],
      ['user=nobody&service=desktop', 4404, /^no contact named .*nobody/],
      // looks like a user ID, but its checksum is wrong
      [`user=cs1${'a'.repeat(60)}&service=desktop`, 4400, /./]
    ]
    for (const [q, code, reason] of cases) {
      const ws = track(connectWs(api, q))
      const closed = await closeOf(ws)
      assert.equal(closed.code, code, `${q}: ${closed.reason}`)
      assert.match(closed.reason, reason, q)
      assert.ok(Buffer.byteLength(closed.reason) <= MAX_CLOSE_REASON_BYTES)
    }
  })

  test('a long refusal is cut to a close frame\'s 123 bytes at a character, with an ellipsis', () => {
    const cut = closeReason('cannot reach bøb: ' + 'é'.repeat(200))
    assert.ok(Buffer.byteLength(cut) <= MAX_CLOSE_REASON_BYTES && Buffer.byteLength(cut) >= MAX_CLOSE_REASON_BYTES - 2)
    assert.ok(cut.endsWith('é…'))
    assert.equal(closeReason('one\nline'), 'one line')
  })

  test('bytes go both ways as binary messages; a text message closes with 1003 and nothing after it reaches the service', async () => {
    const received: Buffer[] = []
    let ended = false
    await bobExposes('record', (s) => {
      s.on('data', (b: Buffer) => { received.push(b) })
      s.on('end', () => { ended = true; s.end() })
      s.write('hello from bob')
    })
    const ws = track(connectWs(api, 'user=bob&service=record'))
    const read = byteReader(ws)
    await once(ws, 'open')
    assert.equal((await read(14)).toString(), 'hello from bob')
    ws.send(Buffer.from('abc'))
    ws.send('a text message')
    ws.send(Buffer.from('def'))
    const closed = await closeOf(ws)
    assert.equal(closed.code, 1003)
    assert.match(closed.reason, /binary/)
    // the page's close ends the session's writing side; the service sees what came before the text
    await waitFor('the service to see the end', () => ended, 20_000, 20)
    assert.equal(Buffer.concat(received).toString(), 'abc')
  })

  test('with progress=true, one text message tells the page the other side is asking; then the session\'s bytes, binary', async (t) => {
    await bobExposes('askme', (s) => { s.end('hello after the answer') })
    const rule = (await runCli(bob.home, ['rules', 'add', 'prompt', 'alice', 'askme'])).stdout.split('\t')[0]
    t.after(async () => { await runCli(bob.home, ['rules', 'remove', rule]) })
    const answer = async (): Promise<void> => {
      const req = await waitFor('a request for askme', async () => (await pendingRequests(bob.home)).find(r => r.service === 'askme'))
      assert.equal((await runCli(bob.home, ['requests', 'allow', req.id])).code, 0)
    }
    const messages: Array<{ text: boolean, data: string }> = []
    const ws = track(connectWs(api, 'user=bob&service=askme&progress=true'))
    const closed = closeOf(ws) // the session may end before answer() returns
    ws.on('message', (data: Buffer, isBinary: boolean) => { messages.push({ text: !isBinary, data: String(data) }) })
    await waitFor('the asking event', () => messages.length > 0, 20_000, 20)
    assert.deepEqual(messages, [{ text: true, data: ASKING_MESSAGE }], 'told before the answer, and nothing else yet')
    await answer()
    assert.equal((await closed).code, 1000)
    assert.deepEqual(messages.slice(1).map(m => m.text), messages.slice(1).map(() => false), 'the session\'s bytes are binary')
    assert.equal(messages.slice(1).map(m => m.data).join(''), 'hello after the answer')

    // not asked for: binary messages only (byteReader asserts it)
    const plain = track(connectWs(api, 'user=bob&service=askme'))
    const read = byteReader(plain)
    await answer()
    assert.equal((await read(22)).toString(), 'hello after the answer')
  })

  test('a page that closes while bob is being asked withdraws the question', async (t) => {
    const pending = async (): Promise<number> => (await pendingRequests(bob.home)).length
    await bobExposes('asklater', (s) => { s.end() })
    const rule = (await runCli(bob.home, ['rules', 'add', 'prompt', 'alice', 'asklater'])).stdout.split('\t')[0]
    t.after(async () => { await runCli(bob.home, ['rules', 'remove', rule]) })
    const ws = track(connectWs(api, 'user=bob&service=asklater&progress=true'))
    const [event] = await once(ws, 'message') as [Buffer]
    assert.equal(String(event), ASKING_MESSAGE)
    assert.equal(await pending(), 1)
    ws.close()
    await waitFor('the request gone from bob\'s list', async () => await pending() === 0, 10_000, 200)
  })

  test('backpressure, service to page: a page that stops reading holds the service back, and reading again lets it go on', async (t) => {
    let written = 0
    await bobExposes('flood', (s) => {
      const chunk = Buffer.alloc(64 * 1024, 7)
      const more = (): void => {
        while (!s.destroyed) {
          written += chunk.length
          if (!s.write(chunk)) { s.once('drain', more); return }
        }
      }
      more()
    })
    const ws = track(connectWs(api, 'user=bob&service=flood'))
    let got = 0
    ws.on('message', (b: Buffer) => { got += b.length })
    await once(ws, 'open')
    await waitFor('the first bytes', () => got > 0, 20_000, 20)
    ws.pause()
    const held = await settles('the service to be held back', () => written)
    t.diagnostic(`held back after ${(held / 2 ** 20).toFixed(1)} MiB`)
    assert.ok(held < HELD_BACK_BOUND, `the service wrote ${held} bytes to a page that does not read`)
    ws.resume()
    await waitFor('the service to go on', () => written > held + HELD_BACK_BOUND, 60_000, 50)
    ws.close()
  })

  test('backpressure, page to service: a service that stops reading holds the page back', async (t) => {
    await bobExposes('stall', (s) => { s.pause() })
    const ws = track(connectWs(api, 'user=bob&service=stall'))
    await once(ws, 'open')
    let sent = 0
    const chunk = Buffer.alloc(64 * 1024, 9)
    const more = (): void => {
      if (ws.readyState !== ws.OPEN || sent > 4 * HELD_BACK_BOUND) return
      // the callback runs once the frame is on the TCP socket: the daemon took it
      ws.send(chunk, () => { sent += chunk.length; more() })
    }
    more()
    const held = await settles('the page to be held back', () => sent)
    t.diagnostic(`held back after ${(held / 2 ** 20).toFixed(1)} MiB`)
    assert.ok(held < HELD_BACK_BOUND, `the daemon took ${held} bytes for a service that does not read`)
    ws.terminate()
  })

  test('a bad querystring or no token is refused before the upgrade', async () => {
    const bad = ['service=desktop', 'user=bob', 'user=bob&service=Bad!', `user=bob&service=${'a'.repeat(65)}`, `user=${'b'.repeat(2049)}&service=desktop`, 'user=&service=desktop', 'user=bob&service=desktop&extra=1', 'user=bob&service=desktop&progress=maybe']
    for (const q of bad) assert.equal(await upgradeStatus(track(connectWs(api, q))), 400, q)
    const noToken = track(new WebSocket(`ws://127.0.0.1:${api.port}/v1/connect/ws?user=bob&service=desktop`))
    assert.equal(await upgradeStatus(noToken), 401)
  })

  test('after all that the daemon still serves', async () => {
    const res = await fetch(`http://127.0.0.1:${api.port}/v1/status`, { headers: { authorization: `Bearer ${api.token}` } })
    assert.equal(res.status, 200)
    const status = await res.json() as { contacts: Array<{ name: string, presence: string }> }
    assert.ok(status.contacts.some(c => c.name === 'bob'))
  })
})
