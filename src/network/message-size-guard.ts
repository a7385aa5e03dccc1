import type { Libp2p, Stream, StreamMiddleware } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MessageTooLarge } from './errors.js'

/**
 * A size limit on the length-prefixed messages (unsigned varint length, then
 * the body) that libp2p's own protocols read with `pbStream` and no limit of
 * their own: kad-dht buffered up to 4 MiB per stream for a message still
 * arriving (32 streams a connection: 126 MB held from one peer, measured),
 * the circuit relay's HOP and STOP the same (2 GB from one connection to a
 * router), and a length prefix that never ended cost an async read per byte
 * until the event loop stalled for seconds. The guard watches what arrives
 * on a stream and aborts it as soon as a length prefix announces more than
 * the limit or runs past the bytes such a length needs; bytes are never
 * held, so a stream within the limit sees no difference (with an inspector,
 * guardMessages, each message is also copied once to be read).
 */
export interface MessageLimit {
  /** Largest message body accepted, in bytes. */
  maxMessageBytes: number
  /**
   * Only the first message is framed: on a relay stream the first message
   * (CONNECT, STATUS) is followed by the relayed connection's own bytes.
   */
  firstMessageOnly: boolean
}

/**
 * A limit on all a stream may carry, for a protocol that is not framed:
 * ping echoes whatever arrives, and while its reply waited for a peer that
 * never read, libp2p's stream iterator kept taking (and granting window for)
 * more, 2 GB in 10 s from one connection (measured). A ping is 32 bytes.
 */
export interface StreamByteLimit {
  maxStreamBytes: number
}

export type StreamLimit = MessageLimit | StreamByteLimit

/** Bytes an unsigned varint of `value` takes. */
function varintBytes (value: number): number {
  let n = 1
  while (value >= 128) { value = Math.floor(value / 128); n++ }
  return n
}

/** Checks length-prefixed framing as bytes arrive; returns an error text at the first violation. */
export class MessageFrameWatcher {
  private prefixValue = 0
  private prefixBytes = 0
  /** Body bytes still to come of the current message; -1 while reading a prefix. */
  private remaining = -1
  private readonly maxPrefixBytes: number
  /** Messages whose body has fully arrived. */
  completed = 0
  /** The current message's body as it arrives, when each is handed to onMessage. */
  private body: Uint8Array | undefined
  private bodyFilled = 0

  /**
   * `onMessage`, if given, sees each whole message body (at most
   * maxMessageBytes, copied once) before its last byte is passed on, and
   * returns a violation to refuse it.
   */
  constructor (private readonly limit: MessageLimit, private readonly onMessage?: (body: Uint8Array) => string | undefined) {
    this.maxPrefixBytes = varintBytes(limit.maxMessageBytes)
  }

  /** Whether the watcher has nothing more to check (firstMessageOnly and the first message is in). */
  get done (): boolean {
    return this.limit.firstMessageOnly && this.completed > 0
  }

  /** Feeds bytes; a description of the violation, or undefined while all is within the limit. */
  feed (bytes: Uint8Array): string | undefined {
    let i = 0
    while (i < bytes.length && !this.done) {
      if (this.remaining < 0) {
        const b = bytes[i++]
        this.prefixValue += (b & 0x7f) * 2 ** (7 * this.prefixBytes)
        this.prefixBytes++
        if (this.prefixValue > this.limit.maxMessageBytes) return `a message of ${this.prefixValue} bytes or more is over the limit of ${this.limit.maxMessageBytes}`
        if ((b & 0x80) !== 0) {
          if (this.prefixBytes >= this.maxPrefixBytes) return `a length prefix longer than ${this.maxPrefixBytes} bytes`
          continue
        }
        this.remaining = this.prefixValue
        if (this.onMessage != null) {
          this.body = new Uint8Array(this.prefixValue)
          this.bodyFilled = 0
        }
        this.prefixValue = 0
        this.prefixBytes = 0
      } else {
        const take = Math.min(this.remaining, bytes.length - i)
        this.body?.set(bytes.subarray(i, i + take), this.bodyFilled)
        this.bodyFilled += take
        i += take
        this.remaining -= take
      }
      if (this.remaining === 0) {
        this.completed++
        this.remaining = -1
        const body = this.body
        this.body = undefined
        const refused = body == null ? undefined : this.onMessage?.(body)
        if (refused != null) return refused
      }
    }
    return undefined
  }
}

/** Counts a stream's bytes against StreamByteLimit; the same interface as MessageFrameWatcher. */
export class StreamByteWatcher {
  private seen = 0
  readonly done = false

  constructor (private readonly maxStreamBytes: number) {}

  feed (bytes: Uint8Array): string | undefined {
    this.seen += bytes.byteLength
    return this.seen > this.maxStreamBytes ? `more than ${this.maxStreamBytes} bytes on one stream` : undefined
  }
}

/** The part of libp2p's stream classes (AbstractMessageStream) the guard hooks: where a muxer hands in received bytes. */
interface ReceivingStream {
  onData: (data: Uint8Array | Uint8ArrayList) => void
  readBuffer?: Uint8ArrayList
}

/**
 * Checks a whole message body (MessageFrameWatcher's onMessage); an error to
 * abort the stream with, or undefined to let it through.
 */
export type MessageInspector = (body: Uint8Array) => Error | undefined

/**
 * Watches `stream`'s incoming bytes against `limit` (its messages' sizes,
 * or its bytes in all), aborting it with MessageTooLarge on a violation, or
 * with `inspect`'s error for a message it refuses; the message's last byte
 * is then never passed on, so the protocol never reads it. Bytes already
 * received but not yet read (a protocol negotiation's leftovers) are
 * checked first.
 */
export function guardMessages (stream: Stream, limit: StreamLimit, inspect?: MessageInspector): void {
  const receiving = stream as unknown as ReceivingStream
  if (typeof receiving.onData !== 'function') throw new Error('@libp2p/utils changed: streams have no onData; review network/message-size-guard.ts')
  let refusal: Error | undefined
  const onMessage = inspect == null
    ? undefined
    : (body: Uint8Array) => {
        refusal = inspect(body)
        return refusal?.message
      }
  const watcher = 'maxStreamBytes' in limit ? new StreamByteWatcher(limit.maxStreamBytes) : new MessageFrameWatcher(limit, onMessage)
  const check = (data: Uint8Array | Uint8ArrayList): boolean => {
    const chunks = data instanceof Uint8Array ? [data] : data
    for (const chunk of chunks) {
      const violation = watcher.feed(chunk)
      if (violation != null) {
        stream.abort(refusal ?? new MessageTooLarge(stream.protocol ?? 'a stream', violation))
        return false
      }
      if (watcher.done) return true
    }
    return true
  }
  if (receiving.readBuffer != null && receiving.readBuffer.byteLength > 0 && !check(receiving.readBuffer)) return
  if (watcher.done) return
  // another hook may sit on this stream already (libp2p's own, for a protocol
  // answer still to come): called after the check, and put back when done
  const ownBefore = Object.prototype.hasOwnProperty.call(receiving, 'onData')
  const onData = receiving.onData
  receiving.onData = function (this: ReceivingStream, data) {
    if (!check(data)) return
    // past the first message of a relay stream: the hook (or the class's method) before this one again
    if (watcher.done) {
      if (ownBefore) this.onData = onData
      else delete (this as Partial<ReceivingStream>).onData
    }
    onData.call(this, data)
  }
}

/**
 * Guards every stream of each protocol in `limits`, inbound and outbound
 * alike, through libp2p's stream middleware (run after the protocol is
 * agreed, before the handler or the opener gets the stream). Streams opened
 * around libp2p's `newStream` (network/proposed-stream.ts) call
 * `guardMessages` themselves.
 *
 * libp2p 3.3 appends each inbound stream's handler to the protocol's stored
 * middleware list, so the Nth stream ran the handler N times, each reading
 * the same stream (a relayed connection's second stream failed with
 * "Missing newline"; js-libp2p#3534, a fix not yet released). The registrar
 * here hands out a copy of the list instead.
 */
export function guardProtocolMessages (node: Pick<Libp2p, 'use'>, limits: Record<string, StreamLimit>): void {
  const registrar = (node as { components?: { registrar?: { getMiddleware?: (protocol: string) => StreamMiddleware[] } } }).components?.registrar
  const getMiddleware = registrar?.getMiddleware
  if (registrar == null || typeof getMiddleware !== 'function') throw new Error('libp2p changed: its registrar has no getMiddleware; review network/message-size-guard.ts')
  registrar.getMiddleware = (protocol) => [...getMiddleware.call(registrar, protocol)]
  for (const [protocol, limit] of Object.entries(limits)) {
    node.use(protocol, (stream, connection, next) => {
      guardMessages(stream, limit)
      next(stream, connection)
    })
  }
}
