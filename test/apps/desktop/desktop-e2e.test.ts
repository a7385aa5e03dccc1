import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { execFile, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { cleanupAll, runCli, spawnCspace, spawnCspaceOnTerminal, startTwoUsers, type Profile } from '../../helpers/cli.js'
import { portOpen, waitFor } from '../../helpers/wait.js'
import {
  ByteReader, clientCutText, fbUpdateRequest, keyEvent, missingDesktopBinaries, pointerEvent, rfbHandshake,
  startX11vncServer, startXvfb, type X11vncServer, type Xvfb
} from '../../helpers/xvfb.js'
import { findOnPath } from '../../../src/util/find-on-path.js'

const execFileP = promisify(execFile)

const missing = missingDesktopBinaries()
const WIDTH = 800
const HEIGHT = 600

/** A long-running cspace command whose output the test watches. */
interface Proc { child: ChildProcess, out: () => string, err: () => string }
function run (args: string[], home: string, env?: Record<string, string>): Proc {
  const child = spawnCspace(args, { home, env })
  let out = ''
  let err = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { err += b.toString() })
  return { child, out: () => out, err: () => err }
}

async function waitOutput (p: Proc, re: RegExp, what: string): Promise<RegExpMatchArray> {
  return await waitFor(what, () => {
    if (p.child.exitCode != null) throw new Error(`exited ${p.child.exitCode}: ${p.err()}`)
    return re.exec(p.out()) ?? undefined
  }, 30_000, 50)
}

async function stop (p: Proc): Promise<number | null> {
  if (p.child.exitCode != null) return p.child.exitCode
  const exited = once(p.child, 'exit')
  p.child.kill('SIGINT')
  const [code] = await exited as [number | null]
  return code
}

/** What a fake VNC server saw from one viewer after the handshake. */
interface FakeVnc { port: number, received: Buffer[], close: () => void }
const fakes: FakeVnc[] = []

/** A VNC server stand-in speaking RFB 3.8 (offering `types`), which records every byte a viewer sends after ClientInit. */
async function fakeVnc (types: number[] = [1]): Promise<FakeVnc> {
  const received: Buffer[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    s.on('error', () => {})
    s.write(Buffer.concat([Buffer.from('RFB 003.008\n'), Buffer.from([types.length, ...types])]))
    let pending = Buffer.alloc(0)
    let stage: 'security' | 'init' | 'session' = 'security'
    let index = -1
    s.on('data', (b: Buffer) => {
      if (stage === 'session') { received[index] = Buffer.concat([received[index], b]); return }
      pending = Buffer.concat([pending, b])
      if (stage === 'security' && pending.length >= 13) { // version + chosen type
        pending = pending.subarray(13)
        s.write(Buffer.alloc(4)) // SecurityResult: OK
        stage = 'init'
      }
      if (stage === 'init' && pending.length >= 1) { // ClientInit
        const init = Buffer.alloc(24) // 640x480, zero pixel format, empty name
        init.writeUInt16BE(640, 0)
        init.writeUInt16BE(480, 2)
        s.write(init)
        index = received.push(pending.subarray(1)) - 1
        stage = 'session'
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const fake = { port: (server.address() as { port: number }).port, received, close: () => { for (const s of sockets) s.destroy(); server.close() } }
  fakes.push(fake) // closed in after(), also when a test fails half-way
  return fake
}

describe('desktop: share and view across real daemons', { skip: missing.length > 0 ? `needs ${missing.join(' and ')} (apt install xvfb x11vnc)` : false }, () => {
  let alice: Profile
  let bob: Profile
  let xvfb: Xvfb
  let vnc: X11vncServer
  let view: Proc
  let viewPort: number

  before(async () => {
    xvfb = await startXvfb(`${WIDTH}x${HEIGHT}x24`)
    vnc = await startX11vncServer(xvfb.display)
    ;({ alice, bob } = await startTwoUsers())
    // one view for the whole file: each viewer connection is a new session to alice's current share
    view = run(['desktop', 'view', 'alice', '--no-viewer'], bob.home)
    viewPort = Number((await waitOutput(view, /^(\d+)\n/, 'the view\'s port'))[1])
  })

  after(async () => {
    for (const f of fakes) f.close()
    await cleanupAll()
    await vnc?.stop()
    await xvfb?.stop()
  })

  test('prompt path: the session waits for the sharer, then shows the Xvfb screen', async () => {
    // before alice shares: the viewer is told so, not that she "has no service"
    const early = connect(viewPort, '127.0.0.1')
    early.on('error', () => {})
    await waitFor('the view saying alice is not sharing', () => view.err().includes('alice is not sharing their desktop (they start with `cspace desktop share`)'), 30_000, 50)
    early.destroy()
    const share = run(['desktop', 'share', '--vnc', `127.0.0.1:${vnc.port}`], alice.home)
    await waitOutput(share, /sharing your desktop .* view-only/, 'share ready')
    const session = rfbHandshake(viewPort)
    const id = await waitFor('a desktop request on alice', async () => {
      const r = await runCli(alice.home, ['requests', '--json'])
      return (JSON.parse(r.stdout) as Array<{ id: string, service: string }>).find(q => q.service === 'desktop')?.id
    }, 30_000, 200)
    // the viewer is told why nothing shows yet
    await waitFor('the view saying alice is being asked', () => view.err().includes('alice is being asked whether to let you view their desktop; waiting for their answer'), 30_000, 50)
    // the share told its user how to answer
    await waitOutput(share, new RegExp(`request ${id}: bob \\(.*\\) wants to view your desktop \\[view-only\\]; answer with \`cspace requests allow ${id}\``), 'the request line')
    assert.equal((await runCli(alice.home, ['requests', 'allow', id])).code, 0)

    const { socket, reader, init } = await session
    assert.deepEqual([init.width, init.height], [WIDTH, HEIGHT])
    socket.write(fbUpdateRequest(WIDTH, HEIGHT))
    const head = await reader.read(4)
    assert.equal(head[0], 0, 'FramebufferUpdate message type')
    assert.ok(head.readUInt16BE(2) >= 1, 'at least one rectangle')
    const rect = await reader.read(12)
    assert.ok(rect.readUInt16BE(4) <= WIDTH && rect.readUInt16BE(6) <= HEIGHT, 'rectangle within the screen')
    assert.match(view.err(), /viewing alice's desktop\n/, 'the viewer told the session began')
    socket.destroy()
    await waitOutput(share, /bob \(.*\) stopped viewing/, 'session end logged')
    await waitFor('the viewer told the session ended', () => view.err().includes('alice\'s desktop session ended'), 10_000, 50)

    // a denied request: the viewer's connection closes without a byte of the desktop
    const denied = new ByteReader(connect(viewPort, '127.0.0.1'))
    const id2 = await waitFor('a second desktop request', async () => {
      const r = await runCli(alice.home, ['requests', '--json'])
      return (JSON.parse(r.stdout) as Array<{ id: string, service: string }>).find(q => q.service === 'desktop' && q.id !== id)?.id
    }, 30_000, 200)
    assert.equal((await runCli(alice.home, ['requests', 'deny', id2])).code, 0)
    assert.equal(await denied.closesWithin(20_000), true)
    assert.equal(await stop(share), 0)
  })

  test('on a terminal the sharer is asked y/N, and the answer lets the viewer in', { skip: findOnPath('script') == null ? 'needs script(1) for a terminal' : false }, async () => {
    const child = spawnCspaceOnTerminal(['desktop', 'share', '--vnc', `127.0.0.1:${vnc.port}`], { home: alice.home })
    let out = ''
    child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    try {
      await waitFor('share ready on the terminal', () => /sharing your desktop/.test(out), 30_000, 50)
      const session = rfbHandshake(viewPort)
      await waitFor('the question', () => /bob \(\d{5}( \d{5}){5}\) wants to view your desktop \[view-only\]\. Allow\? \[y\/N\]/.test(out), 30_000, 50)
      child.stdin?.write('y\r')
      const { socket, init } = await session
      assert.deepEqual([init.width, init.height], [WIDTH, HEIGHT])
      socket.destroy()
      child.stdin?.write('\x03') // Ctrl-C on the terminal
      assert.equal(await waitFor('the share to stop on Ctrl-C', () => child.exitCode ?? undefined, 20_000, 50), 0, out)
    } finally {
      child.kill('SIGKILL')
    }
  })

  test('rule path: a contact allowed by a rule gets in without a prompt', async () => {
    assert.equal((await runCli(alice.home, ['rules', 'add', 'allow', 'bob', 'desktop'])).code, 0)
    const share = run(['desktop', 'share', '--vnc', `127.0.0.1:${vnc.port}`], alice.home)
    await waitOutput(share, /sharing your desktop/, 'share ready')
    const { socket, reader, init } = await rfbHandshake(viewPort)
    assert.deepEqual([init.width, init.height], [WIDTH, HEIGHT])
    socket.write(fbUpdateRequest(WIDTH, HEIGHT))
    assert.equal((await reader.read(4))[0], 0)
    assert.deepEqual(JSON.parse((await runCli(alice.home, ['requests', '--json'])).stdout), [])
    assert.doesNotMatch(share.out(), /request /)
    // one share at a time: a second is refused, not silently put in the first's place
    const second = await runCli(alice.home, ['desktop', 'share', '--vnc', `127.0.0.1:${vnc.port}`])
    assert.equal(second.code, 1)
    assert.match(second.stderr, /^cspace: "desktop" is already offered from this daemon \(another `cspace desktop share` is running\); stop that first\n$/)
    socket.destroy()
    assert.equal(await stop(share), 0)
  })

  test('--start runs x11vnc on $DISPLAY for as long as sharing runs', async () => {
    const share = run(['desktop', 'share', '--start'], alice.home, { DISPLAY: xvfb.display })
    const port = Number((await waitOutput(share, /sharing your desktop \(127\.0\.0\.1:(\d+), x11vnc\)/, 'share ready'))[1])
    const { socket, init } = await rfbHandshake(viewPort)
    assert.deepEqual([init.width, init.height], [WIDTH, HEIGHT])
    socket.destroy()
    assert.equal(await stop(share), 0)
    await waitFor('x11vnc stopped with the share', async () => !(await portOpen(port)), 10_000, 100)

    // and the other way round: x11vnc gone, the share ends and says why, rather than go on refusing viewers
    const again = run(['desktop', 'share', '--start'], alice.home, { DISPLAY: xvfb.display })
    const secondPort = Number((await waitOutput(again, /sharing your desktop \(127\.0\.0\.1:(\d+), x11vnc\)/, 'share ready'))[1])
    await execFileP('pkill', ['-f', `x11vnc .*-rfbport ${secondPort} `])
    const code = await waitFor('the share to end with x11vnc', () => again.child.exitCode ?? undefined, 15_000, 50)
    assert.equal(code, 1)
    assert.match(again.err(), /cspace: x11vnc stopped \((exit code \d+|signal SIGTERM)\), so there is no desktop to show; sharing ended\n$/)
  })

  test('view-only is enforced by the share: input never reaches the VNC server; --allow-control lets it through', async () => {
    const fake = await fakeVnc()
    const input = Buffer.concat([keyEvent(0x61, true), keyEvent(0x61, false), pointerEvent(5, 5, 1), clientCutText('from the viewer')])
    const request = fbUpdateRequest(640, 480)
    for (const allowControl of [false, true]) {
      const share = run(['desktop', 'share', '--vnc', `127.0.0.1:${fake.port}`, ...(allowControl ? ['--allow-control'] : [])], alice.home)
      await waitOutput(share, allowControl ? /WITH CONTROL/ : /view-only/, 'share ready')
      const { socket, init } = await rfbHandshake(viewPort)
      assert.deepEqual([init.width, init.height], [640, 480])
      // input first, then a request: once the request arrived, everything before it has too
      socket.write(Buffer.concat([input, request]))
      const got = await waitFor('the request at the VNC server', () => {
        const b = fake.received[fake.received.length - 1]
        return b != null && b.subarray(b.length - request.length).equals(request) ? b : undefined
      }, 20_000, 20)
      assert.deepEqual(got, allowControl ? Buffer.concat([input, request]) : request)
      socket.destroy()
      if (!allowControl) await waitOutput(share, /stopped viewing \(4 input events dropped\)/, 'dropped input logged')
      assert.equal(await stop(share), 0)
    }
  })

  test('view-only with a VNC server that offers no checkable security type: the viewer is told why', async () => {
    const fake = await fakeVnc([16, 19]) // Tight and VeNCrypt: the filter cannot follow their bytes
    const share = run(['desktop', 'share', '--vnc', `127.0.0.1:${fake.port}`], alice.home)
    await waitOutput(share, /sharing your desktop/, 'share ready')
    await assert.rejects(rfbHandshake(viewPort), /server refused: cspace view-only: the VNC server offers only security types 16, 19/)
    await waitOutput(share, /closed by the view-only filter: the VNC server offers no security type/, 'the reason logged')
    assert.equal(fake.received.length, 0, 'no session reached ClientInit')
    assert.equal(await stop(share), 0)
  })
})
