import { chmodSync, existsSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { CspaceError } from '../../errors.js'
import { appLayout, locateDaemon } from '../../sdk/index.js'
import { describeWireValue } from '../../util/wire-value.js'
import { jsonLine, readJsonLines } from './json-lines.js'
import { replyWriter } from './reply-writer.js'

/**
 * The control channel between an app's background host (running beside the
 * daemon) and its front ends (the CLI, scripts): JSON lines over a Unix socket
 * in the app's private directory, so the file system's permissions (0700
 * directory, 0600 socket) are its authentication.
 *
 *   → {"id":1,"op":"send","to":"…","text":"…"}
 *   ← {"id":1,"ok":true,"result":…}  or  {"id":1,"ok":false,"error":{"code":"…","message":"…"}}
 *   ← {"event":"message","data":…}   (to clients that subscribed)
 *
 * Requests that came through the daemon's web UI bridge carry "via":"web"
 * (set by the bridge, whatever the page sent): an operation a page must not
 * use refuses them.
 */
export const CONTROL_MAX_LINE = 1024 * 1024
/** A front end that leaves more than this of replies and events unread is cut off (a suspended `cspace chat`, a script that never reads). */
export const CONTROL_MAX_UNREAD_BYTES = 16 * 1024 * 1024

export class AppHostNotRunning extends CspaceError {
  constructor (app: string) {
    super('APP_HOST_NOT_RUNNING', `the ${app} service is not running; start it with \`cspace daemon\` (it runs the apps unless --no-apps)`)
  }
}

export class ControlRequestFailed extends CspaceError {}

/** One connected front end, as a handler sees it. */
export interface ControlPeer {
  /** Sends an event line to this front end. */
  emit: (event: string, data: unknown) => void
  /** Set by a handler (e.g. 'subscribe') to receive events; cleared on close. */
  subscribed: boolean
  onClose: (fn: () => void) => void
}

export type ControlHandler = (params: Record<string, unknown>, peer: ControlPeer) => Promise<unknown> | unknown

export interface ControlServer {
  /** Sends an event to every subscribed front end. */
  broadcast: (event: string, data: unknown) => void
  close: () => Promise<void>
}

export function controlSocketPath (app: string, home?: string): string {
  return appLayout(app, { home }).controlSocket
}

/** Serves `handlers` on the app's control socket; a failing handler answers with its error's code and message. */
export async function serveControl (app: string, handlers: Record<string, ControlHandler>, home?: string): Promise<ControlServer> {
  const path = controlSocketPath(app, home)
  // a socket file left by a crashed host; the daemon's profile lock means no other host is live
  if (existsSync(path)) unlinkSync(path)
  const peers = new Set<ControlPeer>()
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket: Socket) => {
    sockets.add(socket)
    const closers: Array<() => void> = []
    const write = replyWriter(socket, CONTROL_MAX_UNREAD_BYTES)
    const peer: ControlPeer = {
      subscribed: false,
      emit: (event, data) => { write(jsonLine({ event, data })) },
      onClose: (fn) => closers.push(fn)
    }
    peers.add(peer)
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket); peers.delete(peer); for (const fn of closers) fn() })
    readJsonLines(socket, CONTROL_MAX_LINE, (m) => { void answer(m) }, (err) => {
      socket.end(jsonLine({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: err.message } }))
    })
    // nothing here may throw: a rejection nobody handles ends the daemon
    async function answer (m: Record<string, unknown>): Promise<void> {
      const id = typeof m.id === 'number' ? m.id : null
      const handler = typeof m.op === 'string' && Object.hasOwn(handlers, m.op) ? handlers[m.op] : undefined
      let line: string
      try {
        if (handler == null) throw new ControlRequestFailed('UNKNOWN_OP', `unknown operation ${describeWireValue(m.op)}`)
        line = jsonLine({ id, ok: true, result: (await handler(m, peer)) ?? null })
      } catch (err) {
        const e = err as { code?: unknown, message?: string }
        line = jsonLine({ id, ok: false, error: { code: typeof e.code === 'string' ? e.code : 'INTERNAL', message: e.message ?? String(err), usage: err instanceof CspaceError && err.exitCode === 2 } })
      }
      write(line)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => { server.off('error', reject); resolve() })
  })
  chmodSync(path, 0o600)
  return {
    broadcast: (event, data) => { for (const p of peers) if (p.subscribed) p.emit(event, data) },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        // front ends see the host go (their requests fail with APP_HOST_GONE) instead of hanging
        for (const s of sockets) s.destroy()
      })
    }
  }
}

/** A front end's connection to an app host. */
export class ControlClient {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly listeners = new Set<(event: string, data: unknown) => void>()

  private constructor (private readonly socket: Socket) {
    readJsonLines(socket, CONTROL_MAX_LINE, (m) => this.onLine(m), (err) => this.failAll(err))
    socket.on('close', () => this.failAll(new ControlRequestFailed('APP_HOST_GONE', 'the app service went away (did the daemon stop?)')))
    socket.on('error', () => {})
  }

  static async open (app: string, home?: string): Promise<ControlClient> {
    const path = controlSocketPath(app, home)
    const socket = createConnection(path)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      // no daemon at all (or no profile) says so; a daemon without the app is --no-apps
      socket.once('error', () => { try { locateDaemon({ home }); reject(new AppHostNotRunning(app)) } catch (err) { reject(err) } })
    })
    return new ControlClient(socket)
  }

  async request<T> (op: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.socket.destroyed || this.socket.writableEnded) throw new ControlRequestFailed('APP_HOST_GONE', 'the app service went away (did the daemon stop?)')
    const id = this.nextId++
    this.socket.write(jsonLine({ ...params, id, op }))
    return await new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }))
  }

  /**
   * Calls `fn` for every event line. An event can be read in the same chunk
   * as a reply and so reach `fn` before the code awaiting that reply resumes:
   * match events to requests by content, not by the order of arrival.
   */
  onEvent (fn: (event: string, data: unknown) => void): void {
    this.listeners.add(fn)
  }

  close (): void {
    this.socket.end()
  }

  /** Resolves when the host closes the connection. */
  get closed (): Promise<void> {
    return new Promise((resolve) => { if (this.socket.closed) resolve(); else this.socket.once('close', () => resolve()) })
  }

  private onLine (m: Record<string, unknown>): void {
    if (typeof m.event === 'string') { for (const l of this.listeners) l(m.event, m.data); return }
    const w = typeof m.id === 'number' ? this.waiting.get(m.id) : undefined
    if (w == null) return
    this.waiting.delete(m.id as number)
    if (m.ok === true) { w.resolve(m.result); return }
    const e = (m.error ?? {}) as { code?: string, message?: string, usage?: boolean }
    w.reject(new ControlRequestFailed(e.code ?? 'FAILED', e.message ?? 'the request failed', e.usage === true ? 2 : 1))
  }

  private failAll (err: Error): void {
    for (const w of this.waiting.values()) w.reject(err)
    this.waiting.clear()
  }
}
