import { createServer, type Server, type Socket } from 'node:net'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { CspaceError } from '../errors.js'
import { ConnectStatus, pipeSocketStream, type IncomingRequest, type ServiceRegistry, type SessionManager } from '../session/index.js'
import { componentLogger } from '../util/log.js'
import { ASKING_EVENT, encodeLine, MAX_HEADER_BYTES, parseAppRequest, type AppReply, type AppRequest, type IncomingEvent } from './app-protocol.js'
import { readLine } from './line-reader.js'

const log = componentLogger('daemon:app-port')
const HEADER_TIMEOUT_MS = 10_000
const MAX_PENDING_ACCEPTS = 256
/** Connections not yet past their first line (token checked): each holds a file descriptor for up to HEADER_TIMEOUT_MS. */
const MAX_UNAUTHENTICATED = 128
/** How long a refused program may keep its side open after the refusal; its socket is then closed. */
const REFUSED_LINGER_MS = 2000

export interface AppPortComponents {
  sessions: SessionManager
  services: ServiceRegistry
}

export interface AppPortInit {
  token: string
  port?: number
}

/**
 * The application port on 127.0.0.1: `connect` turns a local TCP connection
 * into a session with a user's service; `listen` registers a service whose
 * incoming sessions are announced on the control connection and picked up
 * with `accept` on a fresh connection. Every request carries the API token.
 */
export class AppPort {
  private readonly c: AppPortComponents
  private readonly token: Buffer
  private readonly port: number
  private server?: Server
  private readonly pending = new Map<string, { request: IncomingRequest, timer: NodeJS.Timeout }>()
  private unauthenticated = 0
  private busyAnswers = 0
  /** Every open connection: a stop closes them, as the daemon's sessions end (server.close waits for them all). */
  private readonly sockets = new Set<Socket>()

  constructor (components: AppPortComponents, init: AppPortInit) {
    this.c = components
    this.token = Buffer.from(init.token)
    this.port = init.port ?? 0
  }

  async start (): Promise<number> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => { void this.onConnection(socket) })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    // an accept that fails later (out of file descriptors, memory) is logged; unheard, it would end the daemon
    server.on('error', (err) => { log('app port: %e', err) })
    const addr = server.address()
    return typeof addr === 'object' && addr != null ? addr.port : this.port
  }

  async stop (): Promise<void> {
    for (const { request, timer } of this.pending.values()) { clearTimeout(timer); request.reject(ConnectStatus.ServiceUnreachable, 'daemon stopping') }
    this.pending.clear()
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
    // sessions and listeners end here: the programs see their sockets close (a listener's `closed` resolves)
    for (const socket of this.sockets) socket.destroy()
    await closed
  }

  private async onConnection (socket: Socket): Promise<void> {
    socket.setNoDelay(true)
    socket.on('error', (err) => log('app socket error: %e', err))
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    if (this.unauthenticated >= MAX_UNAUTHENTICATED) {
      // said, not just closed: the SDK retries after a pause (a program opening hundreds of sessions at once);
      // those answers are counted too, so that a flood of connections cannot hold a descriptor each
      if (this.busyAnswers >= MAX_UNAUTHENTICATED) { socket.destroy(); return }
      this.busyAnswers++
      socket.once('close', () => { this.busyAnswers-- })
      this.reply(socket, new CspaceError('APP_PORT_BUSY', `more than ${MAX_UNAUTHENTICATED} connections to the daemon are being set up at once; retry`))
      return
    }
    this.unauthenticated++
    let req: AppRequest
    try {
      req = parseAppRequest(await readLine(socket, MAX_HEADER_BYTES, HEADER_TIMEOUT_MS))
      if (!this.tokenOk(req.token)) throw new CspaceError('UNAUTHORIZED', 'wrong or missing API token')
    } catch (err) {
      this.reply(socket, err)
      return
    } finally {
      this.unauthenticated--
    }
    try {
      switch (req.op) {
        case 'connect': await this.connect(socket, req.user, req.service, req.progress === true); break
        case 'listen': this.listen(socket, req.service); break
        case 'accept': await this.accept(socket, req.id); break
      }
    } catch (err) {
      this.reply(socket, err)
    }
  }

  private async connect (socket: Socket, user: string, service: string, progress: boolean): Promise<void> {
    const closed = new AbortController()
    // the other side may ask its user, which can take a minute: a program
    // that hangs up meanwhile ends the connect, and so the question
    const stopWatching = watchForHangUp(socket, () => { closed.abort(new Error('the application hung up')) })
    const onAsking = progress ? () => { socket.write(encodeLine(ASKING_EVENT)) } : undefined
    let stream: Stream
    try {
      stream = await this.c.sessions.connect(user, service, { signal: closed.signal, onAsking })
    } finally {
      stopWatching()
    }
    await this.join(socket, stream)
  }

  private listen (socket: Socket, service: string): void {
    let seq = 0
    const unregister = this.c.services.register(service, (request) => {
      if (!socket.writable) { request.reject(ConnectStatus.NoSuchService); return }
      if (this.pending.size >= MAX_PENDING_ACCEPTS) { request.reject(ConnectStatus.Busy, 'too many pending connections'); return }
      const id = `${randomBytes(8).toString('hex')}${seq++}`
      // the application must pick the session up with `accept` in time
      const timer = setTimeout(() => { this.pending.delete(id); request.reject(ConnectStatus.ServiceUnreachable, 'the application did not accept') }, HEADER_TIMEOUT_MS)
      timer.unref()
      this.pending.set(id, { request, timer })
      const event: IncomingEvent = { v: 1, event: 'incoming', id, service, caller: request.caller }
      socket.write(encodeLine(event))
    }, 'a program on this machine (through the application port)')
    // the application ends the registration by closing its side (half-open sockets never 'close' alone)
    socket.once('end', () => { unregister(); socket.end() })
    socket.once('close', unregister)
    socket.resume() // nothing more is expected; reading lets us see the end
    socket.write(encodeLine({ v: 1, ok: true }))
  }

  private async accept (socket: Socket, id: string): Promise<void> {
    const entry = this.pending.get(id)
    if (entry == null) throw new CspaceError('UNKNOWN_INCOMING', `no pending incoming connection ${id}`)
    this.pending.delete(id)
    clearTimeout(entry.timer)
    const stream = await entry.request.accept()
    await this.join(socket, stream)
  }

  private async join (socket: Socket, stream: Stream): Promise<void> {
    socket.write(encodeLine({ v: 1, ok: true }))
    socket.resume()
    await pipeSocketStream(socket, stream)
  }

  private reply (socket: Socket, err: unknown): void {
    const code = err instanceof CspaceError ? err.code : 'BAD_REQUEST'
    const usage = err instanceof CspaceError && err.exitCode === 2
    const reply: AppReply = { v: 1, ok: false, code, message: (err as Error).message, usage }
    if (socket.destroyed) return
    socket.end(encodeLine(reply))
    // a half-open socket (allowHalfOpen) stays open until the program ends its side too: one that never does is closed
    const linger = setTimeout(() => { socket.destroy() }, REFUSED_LINGER_MS)
    linger.unref()
    socket.once('close', () => { clearTimeout(linger) })
    socket.resume() // what it still sends is dropped, and its end is seen
  }

  private tokenOk (token: string): boolean {
    const t = Buffer.from(token)
    return t.length === this.token.length && timingSafeEqual(t, this.token)
  }
}

/** Bytes a program may send before the reply that the daemon keeps; the rest wait unread. */
const MAX_EARLY_BYTES = 1024 * 1024

/**
 * Until the reply, reads ahead for the EOF of a program that gave up (a
 * socket nobody reads never sees it), keeping any bytes it sent early for
 * the session. The protocol has the program wait for the reply before it
 * half-closes. Past MAX_EARLY_BYTES it stops reading, and then sees an EOF
 * only when the connect ends. Returns the function that stops watching and
 * puts the bytes back.
 */
function watchForHangUp (socket: Socket, onHangUp: () => void): () => void {
  const early: Buffer[] = []
  let kept = 0
  const onReadable = (): void => {
    let chunk: Buffer | null
    // past the cap the program's writes wait in its socket (TCP's window),
    // not in the daemon's memory, for the minute a person may take
    while (kept < MAX_EARLY_BYTES && (chunk = socket.read() as Buffer | null) !== null) {
      early.push(chunk)
      kept += chunk.byteLength
    }
  }
  socket.on('readable', onReadable)
  socket.once('end', onHangUp)
  socket.once('close', onHangUp)
  return () => {
    socket.off('readable', onReadable)
    socket.off('end', onHangUp)
    socket.off('close', onHangUp)
    if (early.length > 0 && !socket.readableEnded) socket.unshift(Buffer.concat(early))
  }
}
