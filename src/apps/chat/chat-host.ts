import type { Duplex } from 'node:stream'
import { connect, listen, type Caller, type Listener } from '../../sdk/index.js'
import { ContactDirectory, DaemonEventFollower, serveControl, readJsonLines, replyWriter, type AppHost, type ControlServer } from '../host/index.js'
import { ChatStore, type ChatMessage } from './chat-store.js'
import { ChatWireError, encodeChatFrame, MAX_FRAME_BYTES, parseChatFrame, type ChatFrame } from './chat-wire.js'
import { Courier } from './courier.js'
import { chatControlHandlers } from './chat-control.js'

export const CHAT_SERVICE = 'chat'
/** Undelivered messages are given up (marked failed) after this long. */
const GIVE_UP_MS = 7 * 24 * 3600_000
/** Replies (acks, errors) a peer may leave unread before it is cut off. */
const MAX_UNREAD_REPLY_BYTES = 1 << 20
/**
 * Chat connections one peer may have open to us at once. A courier keeps one
 * (and a reconnect may overlap it); each may hold an unfinished line of up to
 * MAX_FRAME_BYTES, and a peer may open a thousand streams.
 */
export const MAX_CHAT_CONNECTIONS_PER_PEER = 8
/**
 * A peer connection's typing notices reach the front ends at most this
 * often; the latest state arrives at the end of the wait, so a final "off"
 * is never lost (a peer could send thousands a second, alternating or not).
 */
const TYPING_MIN_GAP_MS = 250

/** What front ends are told: a message, with the other user's current contact name. */
export interface ChatEvent { message: ChatMessage, name?: string }
export interface TypingEvent { peer: string, name?: string, on: boolean }
export interface WaitingEvent { peer: string, name?: string, reason: string, retryInMs: number }

/**
 * The chat service's background part, started by `cspace daemon`: receives
 * messages while no window is open (stored, acknowledged, counted unread),
 * delivers queued ones — retrying with backoff and at once when the daemon
 * sees the recipient connect — and serves the front ends on the control socket.
 */
export class ChatHost implements AppHost {
  readonly app = 'chat'
  readonly contacts: ContactDirectory
  private readonly couriers = new Map<string, Courier>()
  private readonly incoming = new Set<Duplex>()
  private readonly incomingFrom = new Map<string, number>()
  private listener?: Listener
  private control?: ControlServer
  private readonly follower: DaemonEventFollower
  private sweepTimer?: NodeJS.Timeout
  private readonly settleWaiters = new Map<string, Set<(m: ChatMessage) => void>>()

  private constructor (readonly home: string, readonly store: ChatStore) {
    this.contacts = new ContactDirectory({ home })
    this.follower = new DaemonEventFollower({ home }, () => this.anyWaiting(), (e) => {
      if (e.type.startsWith('contact:') || e.type === 'profile:changed') this.contacts.invalidate()
      if (e.type === 'peer:connect' || e.type === 'contact:added') {
        for (const c of this.couriers.values()) c.kick(true)
      }
    })
  }

  static async start (options: { home: string }): Promise<ChatHost> {
    const host = new ChatHost(options.home, ChatStore.open(options.home))
    try {
      host.control = await serveControl('chat', chatControlHandlers(host), options.home)
      host.listener = await listen(CHAT_SERVICE, (socket, caller) => host.onIncoming(socket, caller), { home: options.home })
    } catch (err) {
      await host.stop()
      throw err
    }
    // messages queued before a restart go out now; hourly, ones queued too long are given up
    for (const peer of host.store.peersWithQueued()) host.courier(peer).kick()
    host.sweepTimer = setInterval(() => host.giveUpOld(), 3600_000)
    host.sweepTimer.unref()
    host.giveUpOld()
    return host
  }

  /** Queues a message and starts delivering it. */
  send (peer: string, id: string, text: string): ChatMessage {
    const message = this.store.addOutgoing(peer, id, text)
    void this.announce('message', message)
    this.courier(peer).kick()
    return message
  }

  typing (peer: string, on: boolean): void {
    this.courier(peer).typing(on)
  }

  async stop (): Promise<void> {
    this.follower.stop()
    if (this.sweepTimer != null) clearInterval(this.sweepTimer)
    this.listener?.close()
    for (const c of this.couriers.values()) c.stop()
    for (const s of this.incoming) s.destroy()
    await this.control?.close()
    this.store.close()
  }

  /** Resolves with the message once delivered or failed, or undefined after `timeoutMs`. */
  async waitSettled (id: string, timeoutMs: number): Promise<ChatMessage | undefined> {
    return await new Promise((resolve) => {
      const set = this.settleWaiters.get(id) ?? new Set()
      this.settleWaiters.set(id, set)
      const done = (m: ChatMessage | undefined): void => {
        clearTimeout(timer)
        set.delete(done)
        if (set.size === 0) this.settleWaiters.delete(id)
        resolve(m)
      }
      const timer = setTimeout(() => done(undefined), timeoutMs)
      set.add(done)
    })
  }

  async announce (event: 'message' | 'delivered' | 'failed', message: ChatMessage): Promise<void> {
    if (event !== 'message') for (const w of [...(this.settleWaiters.get(message.id) ?? [])]) w(message)
    const name = await this.contacts.nameOf(message.peer)
    this.control?.broadcast(event, { message, name } satisfies ChatEvent)
  }

  private courier (peer: string): Courier {
    let c = this.couriers.get(peer)
    if (c == null) {
      c = new Courier(peer, this.store, async (p) => await connect(p, CHAT_SERVICE, { home: this.home }), {
        delivered: (m) => { void this.announce('delivered', m) },
        failed: (m) => { void this.announce('failed', m) },
        waiting: (p, reason, retryInMs) => {
          this.follower.poke()
          void this.contacts.nameOf(p).then((name) => this.control?.broadcast('waiting', { peer: p, name, reason, retryInMs } satisfies WaitingEvent))
        }
      })
      this.couriers.set(peer, c)
    }
    return c
  }

  private anyWaiting (): boolean {
    for (const c of this.couriers.values()) if (c.waiting) return true
    return false
  }

  private giveUpOld (): void {
    for (const m of this.store.expire(GIVE_UP_MS)) void this.announce('failed', { ...m, state: 'failed' })
  }

  /** A peer's chat connection: store each message, then acknowledge it; report bad frames to the sender. */
  private onIncoming (socket: Duplex, caller: Caller): void {
    socket.on('error', () => {})
    const open = this.incomingFrom.get(caller.userId) ?? 0
    if (open >= MAX_CHAT_CONNECTIONS_PER_PEER) {
      socket.end(encodeChatFrame({ v: 1, t: 'error', code: 'BUSY', message: `${open} chat connections from you are open already; try again later` }))
      return
    }
    this.incomingFrom.set(caller.userId, open + 1)
    this.incoming.add(socket)
    socket.on('end', () => socket.end())
    socket.on('close', () => {
      this.incoming.delete(socket)
      const n = (this.incomingFrom.get(caller.userId) ?? 1) - 1
      if (n > 0) this.incomingFrom.set(caller.userId, n)
      else this.incomingFrom.delete(caller.userId)
    })
    const write = replyWriter(socket, MAX_UNREAD_REPLY_BYTES)
    const reply = (frame: ChatFrame): void => { write(encodeChatFrame(frame)) }
    // typing notices passed on to the front ends: at once if the last was TYPING_MIN_GAP_MS ago, else the latest at its end
    // (not util/at-most-every, which runs only at the end of its wait: a short burst of typing would never show)
    let typingSentAt = 0
    let typingLatest = false
    let typingTimer: NodeJS.Timeout | undefined
    const passTyping = (on: boolean): void => {
      typingSentAt = Date.now()
      void this.contacts.nameOf(caller.userId).then((name) => this.control?.broadcast('typing', { peer: caller.userId, name, on } satisfies TypingEvent))
    }
    socket.once('close', () => clearTimeout(typingTimer))
    readJsonLines(socket, MAX_FRAME_BYTES, (raw) => {
      let frame: ChatFrame
      try {
        frame = parseChatFrame(raw)
      } catch (err) {
        const e = err as ChatWireError
        reply({ v: 1, t: 'error', code: e.wireCode ?? 'BAD_FRAME', message: e.message, ...(e.id != null ? { id: e.id } : {}) })
        return
      }
      if (frame.t === 'msg') {
        let stored: { message: ChatMessage, fresh: boolean }
        try {
          stored = this.store.receive(caller.userId, frame.id, frame.at, frame.text)
        } catch (err) {
          // not stored, so not acknowledged: the sender keeps it and tries again
          reply({ v: 1, t: 'error', code: 'UNAVAILABLE', message: `the recipient could not store the message (${(err as Error).message.split('\n')[0]})`, id: frame.id })
          return
        }
        reply({ v: 1, t: 'ack', id: frame.id })
        if (stored.fresh) void this.announce('message', stored.message)
      } else if (frame.t === 'typing') {
        typingLatest = frame.on
        if (typingTimer != null) return
        const wait = typingSentAt + TYPING_MIN_GAP_MS - Date.now()
        if (wait <= 0) passTyping(typingLatest)
        else typingTimer = setTimeout(() => { typingTimer = undefined; passTyping(typingLatest) }, wait)
      }
    }, (err) => {
      // the byte stream itself is broken (too long, not UTF-8, not JSON): say why, then hang up
      reply({ v: 1, t: 'error', code: err.kind === 'bad-utf8' ? 'BAD_UTF8' : err.kind === 'too-long' ? 'TOO_LONG' : 'BAD_FRAME', message: err.message })
      socket.end()
    })
  }
}

export async function startChatHost (options: { home: string }): Promise<AppHost> {
  return await ChatHost.start(options)
}
