import { performance } from 'node:perf_hooks'
import type { Socket } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import { stopChild } from '../../src/util/stop-child.js'
import type { Sshd } from '../../test/helpers/sshd.js'
import { runCli, spawnCspace, waitOnline } from '../../test/helpers/cli.js'
import { waitFor } from '../../test/helpers/wait.js'
import { ByteReader, fbUpdateRequest, missingDesktopBinaries, rfbHandshake, startX11vncServer, startXvfb, type X11vncServer, type Xvfb } from '../../test/helpers/xvfb.js'
import { sshTunnel } from '../tools.js'
import { summarize, type Summary } from '../stats.js'
import type { Topology } from '../topology.js'

const GEOMETRY = { width: 1280, height: 800, depth: 24 }
const BYTES_PER_PIXEL = 4 // 32 bpp, asked for with SetPixelFormat

export interface DesktopResult {
  width: number
  height: number
  /** Pixel bytes in one full-screen Raw update (width × height × 4). */
  updateBytes: number
  /** TCP connect → RFB 3.8 handshake, security None, ClientInit → ServerInit received, ms. */
  setupMs: Record<string, Summary>
  /** A non-incremental full-screen FramebufferUpdateRequest (32 bpp, Raw) → its last rectangle byte, ms. */
  updateMs: Record<string, Summary>
  /** The same update as MB/s of pixel data. */
  updateMBps: Record<string, Summary>
}

interface Session { socket: Socket, reader: ByteReader, width: number, height: number }

async function handshake (port: number): Promise<Session> {
  const { socket, reader, init } = await rfbHandshake(port)
  return { socket, reader, width: init.width, height: init.height }
}

/** SetPixelFormat 32 bpp, depth 24, little-endian true colour; SetEncodings [Raw] (no pseudo-encodings). */
function pixelFormatAndEncodings (): Buffer {
  const spf = Buffer.alloc(20)
  spf[0] = 0
  spf[4] = 32 // bits per pixel
  spf[5] = 24 // depth
  spf[6] = 0 // big-endian: no
  spf[7] = 1 // true colour
  spf.writeUInt16BE(255, 8)
  spf.writeUInt16BE(255, 10)
  spf.writeUInt16BE(255, 12)
  spf[14] = 16
  spf[15] = 8
  spf[16] = 0
  const enc = Buffer.alloc(8)
  enc[0] = 2
  enc.writeUInt16BE(1, 2)
  enc.writeInt32BE(0, 4) // Raw
  return Buffer.concat([spf, enc])
}

/**
 * Reads server messages until one FramebufferUpdate is complete; returns the
 * pixel bytes received. Every rectangle must be Raw (the only encoding asked
 * for); together they must cover the screen.
 */
async function readFullUpdate (s: Session): Promise<number> {
  for (;;) {
    const type = (await s.reader.read(1))[0]
    if (type === 0) break
    if (type === 1) { // SetColourMapEntries
      const h = await s.reader.read(5)
      await s.reader.skip(h.readUInt16BE(3) * 6)
    } else if (type === 2) { // Bell
    } else if (type === 3) { // ServerCutText
      await s.reader.skip((await s.reader.read(7)).readUInt32BE(3))
    } else {
      throw new Error(`unexpected server message type ${type}`)
    }
  }
  const rects = (await s.reader.read(3)).readUInt16BE(1)
  let bytes = 0
  let area = 0
  for (let i = 0; i < rects; i++) {
    const r = await s.reader.read(12)
    const [x, y, w, h, encoding] = [r.readUInt16BE(0), r.readUInt16BE(2), r.readUInt16BE(4), r.readUInt16BE(6), r.readInt32BE(8)]
    if (encoding !== 0) throw new Error(`rectangle ${i} of ${rects}: encoding ${encoding}, asked only for Raw`)
    if (x + w > s.width || y + h > s.height) throw new Error(`rectangle ${w}x${h}+${x}+${y} outside the ${s.width}x${s.height} screen`)
    const n = w * h * BYTES_PER_PIXEL
    await s.reader.skip(n)
    bytes += n
    area += w * h
  }
  if (area !== s.width * s.height) throw new Error(`a full-screen update covered ${area} of ${s.width * s.height} pixels in ${rects} rectangles`)
  return bytes
}

/** One session: its setup time, then one full-screen update. */
async function sample (port: number): Promise<{ setupMs: number, updateMs: number, bytes: number }> {
  const t0 = performance.now()
  const s = await handshake(port)
  const setupMs = performance.now() - t0
  try {
    if (s.width !== GEOMETRY.width || s.height !== GEOMETRY.height) throw new Error(`screen ${s.width}x${s.height}, expected ${GEOMETRY.width}x${GEOMETRY.height}`)
    s.socket.write(pixelFormatAndEncodings())
    const t1 = performance.now()
    s.socket.write(fbUpdateRequest(s.width, s.height))
    const bytes = await readFullUpdate(s)
    return { setupMs, updateMs: performance.now() - t1, bytes }
  } finally {
    s.socket.destroy()
  }
}

/** A long-running cspace command and its stdout so far. */
function spawnWatched (args: string[], home: string): { child: ChildProcess, out: () => string, err: () => string } {
  const child = spawnCspace(args, { home })
  let out = ''
  let err = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { err += b.toString() })
  return { child, out: () => out, err: () => err }
}


/**
 * The remote desktop app's cost next to what a user would otherwise use: one
 * Xvfb screen served by x11vnc, reached directly, through `ssh -L` to the
 * local sshd, and through cspace (alice shares, bob views; a rule lets bob in
 * without a prompt). Each sample is a fresh viewer session: its setup time,
 * then its first full-screen Raw update. x11vnc's own ~100 ms before its
 * greeting to a new connection is in every path's setup time. Undefined (with the reason logged)
 * when Xvfb or x11vnc is missing.
 */
export async function measureDesktop (topo: Topology, sshd: Sshd, opts: { samples: number }, log: (s: string) => void): Promise<DesktopResult | undefined> {
  const missing = missingDesktopBinaries()
  if (missing.length > 0) {
    log(`desktop suite skipped: ${missing.join(' and ')} not on PATH (apt install xvfb x11vnc)`)
    return undefined
  }
  let xvfb: Xvfb | undefined
  let vnc: X11vncServer | undefined
  const children: ChildProcess[] = []
  let idle: Session | undefined
  try {
    xvfb = await startXvfb(`${GEOMETRY.width}x${GEOMETRY.height}x${GEOMETRY.depth}`)
    vnc = await startX11vncServer(xvfb.display)
    // with no viewer connected x11vnc sleeps ~200 ms a loop before it notices a
    // new connection; an idle viewer kept open keeps it awake, so that sleep
    // does not land on whichever path connects to an idle server
    idle = await handshake(vnc.port)
    const ports: Record<string, number> = { direct: vnc.port, 'ssh -L': await sshTunnel(sshd, vnc.port) }

    const rule = await runCli(topo.alice.home, ['rules', 'add', 'allow', 'bob', 'desktop'])
    if (rule.code !== 0) throw new Error(`cspace rules add allow bob desktop: ${rule.stderr}`)
    const share = spawnWatched(['desktop', 'share', '--vnc', `127.0.0.1:${vnc.port}`], topo.alice.home)
    children.push(share.child)
    await waitFor('desktop share ready', () => {
      if (share.child.exitCode != null) throw new Error(`desktop share exited ${share.child.exitCode}: ${share.err()}`)
      return /sharing your desktop/.test(share.out())
    }, 30_000, 50)
    await waitOnline(topo.bob.home, 'alice')
    const view = spawnWatched(['desktop', 'view', 'alice', '--no-viewer'], topo.bob.home)
    children.push(view.child)
    ports.cspace = Number(await waitFor('desktop view port', () => {
      if (view.child.exitCode != null) throw new Error(`desktop view exited ${view.child.exitCode}: ${view.err()}`)
      return /^(\d+)\n/.exec(view.out())?.[1]
    }, 30_000, 50))

    // one session per path first (not counted): x11vnc's and the tunnels' first-connection work
    for (const port of Object.values(ports)) await sample(port)
    const setup: Record<string, number[]> = Object.fromEntries(Object.keys(ports).map(k => [k, []]))
    const update: Record<string, number[]> = Object.fromEntries(Object.keys(ports).map(k => [k, []]))
    const mbps: Record<string, number[]> = Object.fromEntries(Object.keys(ports).map(k => [k, []]))
    let updateBytes = 0
    // the paths take turns, so a slow moment on the machine is shared between them
    for (let i = 0; i < opts.samples; i++) {
      for (const [path, port] of Object.entries(ports)) {
        const s = await sample(port)
        updateBytes = s.bytes
        setup[path].push(s.setupMs)
        update[path].push(s.updateMs)
        mbps[path].push(s.bytes / 1e6 / (s.updateMs / 1000))
      }
    }
    const sum = (m: Record<string, number[]>): Record<string, Summary> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, summarize(v)]))
    return { width: GEOMETRY.width, height: GEOMETRY.height, updateBytes, setupMs: sum(setup), updateMs: sum(update), updateMBps: sum(mbps) }
  } finally {
    idle?.socket.destroy()
    for (const c of children.reverse()) await stopChild(c, 'SIGINT', 5000)
    await vnc?.stop()
    await xvfb?.stop()
  }
}
