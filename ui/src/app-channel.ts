import { ApiError } from './api'
import { reconnectingSocket } from './reconnecting-socket'

type Listener = (event: string, data: unknown) => void

interface ControlMessage { id?: number, ok?: boolean, result?: unknown, error?: { code: string, message: string }, event?: string, data?: unknown }

/**
 * A connection to one app's background part (chat, files, desktop) through
 * the daemon's bridge, /v1/apps/APP/control: one JSON request per message,
 * its answer by id, and the app's events. Reconnects (reconnectingSocket);
 * after each (re)connection it subscribes again and tells its users to
 * reload, since events may have been missed in between.
 */
export class AppChannel {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly listeners = new Set<Listener>()
  private readonly openers = new Set<() => void>()
  private readonly socket: ReturnType<typeof reconnectingSocket>
  /** Why the channel is down (for the page to say), or undefined while it is up. */
  problem?: string

  constructor (readonly app: string) {
    this.socket = reconnectingSocket(`/v1/apps/${app}/control`, {
      onOpen: (ws) => {
        this.problem = undefined
        ws.send(JSON.stringify({ id: 0, op: 'subscribe' }))
        for (const fn of this.openers) fn()
      },
      onMessage: (data) => { this.onMessage(JSON.parse(data) as ControlMessage) },
      onClose: (e) => {
        this.failAll(e.reason !== '' ? e.reason : `the ${app} app is not reachable; is the daemon running with its apps?`)
        return true
      }
    })
  }

  get ready (): boolean {
    return this.socket.current()?.readyState === WebSocket.OPEN
  }

  async request<T> (op: string, params: Record<string, unknown> = {}): Promise<T> {
    if (!this.ready) throw new ApiError(503, 'APP_UNAVAILABLE', this.problem ?? `the ${this.app} app is not connected yet`)
    const id = this.nextId++
    this.socket.current()!.send(JSON.stringify({ ...params, id, op }))
    return await new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }))
  }

  /** Every event the app sends; returns the unsubscribe. */
  onEvent (fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Called after every (re)connection, and now if already connected: load state here. */
  onOpen (fn: () => void): () => void {
    this.openers.add(fn)
    if (this.ready) fn()
    return () => this.openers.delete(fn)
  }

  close (): void {
    this.socket.close()
    this.failAll(`the ${this.app} channel was closed`)
  }

  private onMessage (msg: ControlMessage): void {
    if (typeof msg.event === 'string') { for (const l of this.listeners) l(msg.event, msg.data); return }
    const w = typeof msg.id === 'number' ? this.waiting.get(msg.id) : undefined
    if (w == null) return
    this.waiting.delete(msg.id!)
    if (msg.ok === true) w.resolve(msg.result)
    else w.reject(new ApiError(400, msg.error?.code ?? 'FAILED', msg.error?.message ?? 'the request failed'))
  }

  private failAll (problem: string): void {
    this.problem = problem
    for (const w of this.waiting.values()) w.reject(new ApiError(503, 'APP_UNAVAILABLE', problem))
    this.waiting.clear()
  }
}
