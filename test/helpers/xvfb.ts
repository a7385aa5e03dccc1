import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { stopChild } from '../../src/util/stop-child.js'
import { freePort } from './sshd.js'
import { waitFor, waitPort } from './wait.js'

/**
 * Real desktop parts for the desktop app's tests: an Xvfb X server at a given
 * geometry, x11vnc serving it, and a minimal RFB client that speaks the
 * protocol the way a VNC viewer does.
 */

/** Which binaries are missing (empty when the desktop tests can run). */
export function missingDesktopBinaries (): string[] {
  const onPath = (name: string): boolean => (process.env.PATH ?? '').split(':').some(d => d !== '' && existsSync(`${d}/${name}`))
  return ['Xvfb', 'x11vnc'].filter(b => !onPath(b))
}

export interface Managed { stop: () => Promise<void> }
export interface Xvfb extends Managed { display: string }
export interface X11vncServer extends Managed { port: number }

const stopProcess = async (proc: ChildProcess): Promise<void> => { await stopChild(proc) }

/** Starts Xvfb on the first free display from :90 with `geometry` (e.g. "800x600x24"); ready once its socket exists. */
export async function startXvfb (geometry: string): Promise<Xvfb> {
  for (let n = 90; n < 190; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue
    const proc = spawn('Xvfb', [`:${n}`, '-screen', '0', geometry, '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
    const exited = once(proc, 'exit').then(() => true)
    const ready = await Promise.race([
      waitFor(`Xvfb :${n} socket`, () => existsSync(`/tmp/.X11-unix/X${n}`), 15_000, 50).then(() => false),
      exited
    ])
    if (ready) { // lost a race for the display number; try the next one
      if (!/already active|Server is already/.test(stderr)) throw new Error(`Xvfb :${n} exited: ${stderr.trim()}`)
      continue
    }
    return { display: `:${n}`, stop: async () => await stopProcess(proc) }
  }
  throw new Error('no free X display between :90 and :189')
}

/** Starts x11vnc on `display`, loopback only, no password, on a free port; ready once the port accepts. */
export async function startX11vncServer (display: string): Promise<X11vncServer> {
  const port = await freePort()
  const proc = spawn('x11vnc', ['-display', display, '-localhost', '-rfbport', String(port), '-forever', '-shared', '-nopw', '-quiet'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000) })
  await Promise.race([
    waitPort(port, `x11vnc on ${port}`, 20_000),
    once(proc, 'exit').then(() => { throw new Error(`x11vnc exited: ${stderr}`) })
  ])
  return { port, stop: async () => await stopProcess(proc) }
}

/**
 * Reads exact byte counts from a socket, as an RFB client must, without
 * re-copying what is buffered (a full-screen Raw update is megabytes in
 * 64 KiB chunks); `skip` consumes pixel data as it arrives.
 */
export class ByteReader {
  private chunks: Buffer[] = []
  private length = 0
  private ended = false
  private wake: (() => void) | undefined

  constructor (readonly socket: Socket) {
    socket.on('data', (b: Buffer) => { this.chunks.push(b); this.length += b.length; this.wake?.() })
    socket.on('end', () => { this.ended = true; this.wake?.() })
    socket.on('close', () => { this.ended = true; this.wake?.() })
    socket.on('error', () => {})
  }

  async read (n: number, timeoutMs = 20_000): Promise<Buffer> {
    await this.want(n, timeoutMs)
    return this.take(n, true)
  }

  /** Consumes n bytes as they arrive, holding at most what is buffered. */
  async skip (n: number, timeoutMs = 20_000): Promise<void> {
    let left = n
    while (left > 0) {
      await this.want(1, timeoutMs)
      const k = Math.min(left, this.length)
      this.take(k, false)
      left -= k
    }
  }

  /** Resolves true if the peer closes the connection within `timeoutMs` (whatever it sends first). */
  async closesWithin (timeoutMs: number): Promise<boolean> {
    try { await this.want(Number.MAX_SAFE_INTEGER, timeoutMs); return false } catch (err) { return /ended/.test((err as Error).message) }
  }

  private async want (n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.length < n) {
      if (this.ended) throw new Error(`connection ended after ${this.length} of ${n} bytes`)
      if (Date.now() > deadline) throw new Error(`timed out reading ${n} bytes (have ${this.length})`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1)
        this.wake = () => { clearTimeout(t); resolve() }
      })
      this.wake = undefined
    }
  }

  /** Drops n bytes from the front; returns them if `keep`. */
  private take (n: number, keep: boolean): Buffer {
    const parts: Buffer[] = []
    let left = n
    while (left > 0) {
      const c = this.chunks[0]
      if (c.length <= left) {
        this.chunks.shift()
        if (keep) parts.push(c)
        left -= c.length
      } else {
        if (keep) parts.push(c.subarray(0, left))
        this.chunks[0] = c.subarray(left)
        left = 0
      }
    }
    this.length -= n
    return keep ? (parts.length === 1 ? parts[0] : Buffer.concat(parts)) : Buffer.alloc(0)
  }
}

export interface ServerInit { width: number, height: number, name: string }

/**
 * A viewer's side of an RFB 3.8 handshake with security None: version
 * exchange, security type choice, SecurityResult, ClientInit (shared), ServerInit.
 */
export async function rfbHandshake (port: number): Promise<{ socket: Socket, reader: ByteReader, init: ServerInit }> {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  const reader = new ByteReader(socket)
  await once(socket, 'connect')
  const version = (await reader.read(12)).toString('latin1')
  if (!/^RFB 003\.\d{3}\n$/.test(version)) throw new Error(`bad server version ${JSON.stringify(version)}`)
  socket.write('RFB 003.008\n')
  const count = (await reader.read(1))[0]
  if (count === 0) {
    const len = (await reader.read(4)).readUInt32BE(0)
    throw new Error(`server refused: ${(await reader.read(len)).toString()}`)
  }
  const types = [...await reader.read(count)]
  if (!types.includes(1)) throw new Error(`security None not offered (offered ${types.join(',')})`)
  socket.write(Buffer.from([1]))
  const result = (await reader.read(4)).readUInt32BE(0)
  if (result !== 0) throw new Error(`SecurityResult ${result}`)
  socket.write(Buffer.from([1])) // ClientInit: shared
  const head = await reader.read(24) // width, height, 16-byte pixel format, name length
  const name = (await reader.read(head.readUInt32BE(20))).toString()
  return { socket, reader, init: { width: head.readUInt16BE(0), height: head.readUInt16BE(2), name } }
}

/** FramebufferUpdateRequest for the whole screen (non-incremental). */
export function fbUpdateRequest (width: number, height: number): Buffer {
  const b = Buffer.alloc(10)
  b[0] = 3
  b.writeUInt16BE(width, 6)
  b.writeUInt16BE(height, 8)
  return b
}

export function keyEvent (key: number, down: boolean): Buffer {
  const b = Buffer.alloc(8)
  b[0] = 4
  b[1] = down ? 1 : 0
  b.writeUInt32BE(key, 4)
  return b
}

export function pointerEvent (x: number, y: number, mask: number): Buffer {
  const b = Buffer.alloc(6)
  b[0] = 5
  b[1] = mask
  b.writeUInt16BE(x, 2)
  b.writeUInt16BE(y, 4)
  return b
}

export function clientCutText (text: string): Buffer {
  const t = Buffer.from(text, 'latin1')
  const b = Buffer.alloc(8)
  b[0] = 6
  b.writeUInt32BE(t.length, 4)
  return Buffer.concat([b, t])
}
