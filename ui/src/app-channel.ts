import { ApiError } from './api'

type Listener = (event: string, data: unknown) => void

/**
 * A connection to one app's background part (chat, files) through the
 * daemon's bridge, /v1/apps/APP/control: one JSON request per message, its
 * answer by id, and the app's events. Reconnects with backoff (1 s doubling
 * to 30 s); after each (re)connection it subscribes again and tells its
 * users to reload, since events may have been missed in between.
 */
export class AppChannel {
  private socket?: WebSocket
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly listeners = new Set<Listener>()
  private readonly openers = new Set<() => void>()
  private delay = 1000
  private stopped = false
  private timer?: ReturnType<typeof setTimeout>
  /** Why the channel is down (for the page to say), or undefined while it is up. */
  problem?: string

  constructor (readonly app: string) {
    this.open()
  }

  get ready (): boolean {
    return this.socket?.readyState === WebSocket.OPEN
  }

  async request<T> (op: string, params: Record<string, unknown> = {}): Promise<T> {
    if (!this.ready) throw new ApiError(503, 'APP_UNAVAILABLE', this.problem ?? `the ${this.app} app is not connected yet`)
    const id = this.nextId++
    this.socket!.send(JSON.stringify({ ...params, id, op }))
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
    this.stopped = true
    clearTimeout(this.timer)
    this.socket?.close()
  }

  private open (): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/apps/${this.app}/control`)
    this.socket = ws
    ws.onopen = () => {
      this.delay = 1000
      this.problem = undefined
      ws.send(JSON.stringify({ id: 0, op: 'subscribe' }))
      for (const fn of this.openers) fn()
    }
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { id?: number, ok?: boolean, result?: unknown, error?: { code: string, message: string }, event?: string, data?: unknown }
      if (typeof msg.event === 'string') { for (const l of this.listeners) l(msg.event, msg.data); return }
      const w = typeof msg.id === 'number' ? this.waiting.get(msg.id) : undefined
      if (w == null) return
      this.waiting.delete(msg.id!)
      if (msg.ok === true) w.resolve(msg.result)
      else w.reject(new ApiError(400, msg.error?.code ?? 'FAILED', msg.error?.message ?? 'the request failed'))
    }
    ws.onclose = (e) => {
      this.problem = e.reason !== '' ? e.reason : `the ${this.app} app is not reachable; is the daemon running with its apps?`
      for (const w of this.waiting.values()) w.reject(new ApiError(503, 'APP_UNAVAILABLE', this.problem))
      this.waiting.clear()
      if (this.stopped) return
      this.timer = setTimeout(() => this.open(), this.delay)
      this.delay = Math.min(this.delay * 2, 30_000)
    }
  }
}
