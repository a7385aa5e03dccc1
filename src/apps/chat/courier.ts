import type { Duplex } from 'node:stream'
import { readJsonLines } from '../host/index.js'
import { encodeChatFrame, MAX_FRAME_BYTES, parseChatFrame, type ChatFrame } from './chat-wire.js'
import type { ChatMessage, ChatStore } from './chat-store.js'

export interface CourierEvents {
  delivered: (m: ChatMessage) => void
  failed: (m: ChatMessage) => void
  /** The peer could not be reached; the courier tries again in `retryInMs`. */
  waiting: (peer: string, reason: string, retryInMs: number) => void
}

const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 60_000
/** A sent message not acknowledged by then means the connection is dead: reconnect and resend. */
const ACK_TIMEOUT_MS = 30_000
/** A connection with nothing in flight is closed after this long. */
const IDLE_MS = 60_000
const PERMANENT_ERRORS: readonly string[] = ['TOO_LONG', 'EMPTY', 'BAD_UTF8', 'BAD_FRAME']

/**
 * Delivers one peer's queued messages: opens a chat connection when there is
 * something to send, sends each queued message, and marks it delivered when
 * the peer acknowledges it. A failed connection is retried with exponential
 * backoff (1 s … 60 s), and at once when `kick(true)` says the peer may be back.
 */
export class Courier {
  private socket?: Duplex
  private connecting = false
  private readonly inFlight = new Set<string>()
  private backoffMs = 0
  private retryTimer?: NodeJS.Timeout
  private ackTimer?: NodeJS.Timeout
  private idleTimer?: NodeJS.Timeout
  private stopped = false

  constructor (
    readonly peer: string,
    private readonly store: ChatStore,
    private readonly connect: (peer: string) => Promise<Duplex>,
    private readonly events: CourierEvents
  ) {}

  /** True while it waits to retry an unreachable peer. */
  get waiting (): boolean {
    return this.retryTimer != null
  }

  /** Something to send (or the peer may be reachable again, with `fresh`). */
  kick (fresh = false): void {
    try {
      this.tryKick(fresh)
    } catch (err) {
      // the store could not be read: try again later rather than take the daemon down
      this.retryLater((err as Error).message.split('\n')[0])
    }
  }

  private tryKick (fresh: boolean): void {
    if (this.stopped) return
    if (fresh && this.retryTimer != null) {
      clearTimeout(this.retryTimer)
      this.retryTimer = undefined
      this.backoffMs = 0
    }
    if (this.socket != null) { this.flush(); return }
    if (this.connecting || this.retryTimer != null) return
    if (this.store.queued(this.peer).length === 0) return
    void this.open()
  }

  /** Tells the peer whether the user is typing; opens no connection just to say "stopped". */
  typing (on: boolean): void {
    if (this.socket != null) { this.send({ v: 1, t: 'typing', on }); this.armIdle(); return }
    if (!on || this.connecting || this.retryTimer != null) return
    void this.open().then(() => this.socket != null && this.send({ v: 1, t: 'typing', on }))
  }

  stop (): void {
    this.stopped = true
    for (const t of [this.retryTimer, this.ackTimer, this.idleTimer]) if (t != null) clearTimeout(t)
    this.socket?.destroy()
  }

  private async open (): Promise<void> {
    this.connecting = true
    let socket: Duplex
    try {
      socket = await this.connect(this.peer)
    } catch (err) {
      this.connecting = false
      // a refusal is the other side's answer, not a network fault: asking again every minute for a week would
      // put the same question to them again and again (a stranger denied); what was queued fails, and says why
      if ((err as { code?: string }).code === 'NOT_ALLOWED') this.failQueued((err as Error).message)
      else this.retryLater((err as Error).message)
      return
    }
    this.connecting = false
    if (this.stopped) { socket.destroy(); return }
    this.socket = socket
    this.backoffMs = 0
    socket.on('error', () => {})
    socket.on('end', () => socket.end())
    socket.on('close', () => this.onClose(socket))
    readJsonLines(socket, MAX_FRAME_BYTES, (m) => this.onFrame(m), () => socket.destroy())
    try { this.flush() } catch { socket.destroy() }
  }

  private flush (): void {
    for (const m of this.store.queued(this.peer)) {
      if (this.inFlight.has(m.id)) continue
      this.inFlight.add(m.id)
      this.send({ v: 1, t: 'msg', id: m.id, at: m.sentAt, text: m.text })
    }
    if (this.inFlight.size > 0 && this.ackTimer == null) this.ackTimer = setTimeout(() => this.socket?.destroy(), ACK_TIMEOUT_MS)
    this.armIdle()
  }

  private onFrame (raw: Record<string, unknown>): void {
    try {
      this.handleFrame(raw)
    } catch {
      // our own store failed (disk full?): drop the connection; what is still queued goes again later
      this.socket?.destroy()
    }
  }

  private handleFrame (raw: Record<string, unknown>): void {
    let frame: ChatFrame
    try { frame = parseChatFrame(raw) } catch { this.socket?.destroy(); return }
    if (frame.t === 'ack') {
      this.inFlight.delete(frame.id)
      this.restartAckTimer()
      const m = this.store.markDelivered(this.peer, frame.id)
      if (m != null) this.events.delivered(m)
    } else if (frame.t === 'error' && frame.id != null && PERMANENT_ERRORS.includes(frame.code)) {
      this.inFlight.delete(frame.id)
      this.restartAckTimer()
      const m = this.store.markFailed(this.peer, frame.id, `refused by the other side: ${frame.message}`)
      if (m != null) this.events.failed(m)
    } else if (frame.t === 'error') {
      this.socket?.destroy()
    }
    this.armIdle()
  }

  private restartAckTimer (): void {
    if (this.ackTimer != null) clearTimeout(this.ackTimer)
    this.ackTimer = this.inFlight.size > 0 ? setTimeout(() => this.socket?.destroy(), ACK_TIMEOUT_MS) : undefined
  }

  private armIdle (): void {
    if (this.idleTimer != null) clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => { if (this.inFlight.size === 0) this.socket?.end() }, IDLE_MS)
    this.idleTimer.unref()
  }

  private onClose (socket: Duplex): void {
    if (this.socket !== socket) return
    this.socket = undefined
    this.inFlight.clear()
    for (const t of [this.ackTimer, this.idleTimer]) if (t != null) clearTimeout(t)
    this.ackTimer = this.idleTimer = undefined
    // whatever is still queued goes again over a new connection; the peer drops duplicates
    let more = true
    try { more = this.store.queued(this.peer).length > 0 } catch { /* unknown: retry to find out */ }
    if (!this.stopped && more) this.retryLater('the connection closed before every message was acknowledged')
  }

  private failQueued (reason: string): void {
    try {
      for (const queued of this.store.queued(this.peer)) {
        const m = this.store.markFailed(this.peer, queued.id, reason)
        if (m != null) this.events.failed(m)
      }
    } catch {
      this.retryLater(reason) // our store failed: the messages stay queued
    }
  }

  private retryLater (reason: string): void {
    if (this.stopped || this.retryTimer != null) return
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? MIN_BACKOFF_MS : this.backoffMs * 2)
    this.events.waiting(this.peer, reason, this.backoffMs)
    this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.kick() }, this.backoffMs)
  }

  private send (frame: ChatFrame): void {
    if (this.socket != null && !this.socket.destroyed) this.socket.write(encodeChatFrame(frame))
  }
}
