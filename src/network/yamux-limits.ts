import { StreamBufferError, type MessageStream, type StreamMuxer, type StreamMuxerFactory } from '@libp2p/interface'
import { GoAwayCode } from '@libp2p/yamux'
import { withMuxerHook } from './muxer-hook.js'

/**
 * Unsent bytes one connection may hold before it is cut off. What a
 * connection legitimately queues when its socket is full is its streams'
 * data up to 1 MiB and one more frame (yamux-streams-in-turn.ts: past that
 * they wait for the socket's drain; a tunnel's frame is at most ~320 KiB,
 * session/pipe.ts), plus control frames, which never wait: window updates
 * and the answers to pings, 12 bytes each. A peer that never reads its socket
 * but keeps asking for answers (yamux pings, streams it opens and resets)
 * made the daemon queue them without end: heap 20 MB → 2 GB in a minute.
 */
export const MAX_CONNECTION_WRITE_BUFFER = 32 * 1024 * 1024

/**
 * What each queued piece of a connection's write buffer is counted as, at
 * least, against MAX_CONNECTION_WRITE_BUFFER: a ping's 12-byte answer is a
 * Uint8Array of its own, which with its slot in the queue costs V8 about
 * 220 bytes (measured), so 32 MiB counted in bytes alone would have been
 * ~600 MB of heap. A data frame (header + 16-64 KiB of payload) costs 1-3%
 * more than its bytes this way.
 */
export const WRITE_PIECE_COST = 256

/**
 * Unsent bytes one stream may hold before it is reset: 2 × the 4 MiB window,
 * as its read buffer. cspace's writers wait while a stream's queue is long
 * (a tunnel holds at most ~320 KiB, session/pipe.ts; a router's circuit
 * ~256 KiB, relay-backpressure.ts) — not for 'drain' alone, which yamux
 * dispatches to every stream when the connection drains — and libp2p's
 * protocols send small messages, so this only cuts off a writer that
 * ignores backpressure towards a peer that grants no window.
 */
export const MAX_STREAM_WRITE_BUFFER = 8 * 1024 * 1024

export interface YamuxLimits {
  /**
   * The largest receive window this node grants a stream (yamux's
   * `maxStreamWindowSize`). The spec forbids a sender to exceed the window,
   * so a Data frame whose header announces more is a protocol error.
   */
  maxStreamWindowSize: number
  /** Default MAX_CONNECTION_WRITE_BUFFER. */
  maxConnectionWriteBuffer?: number
}

/** yamux's frame header: 12 bytes, the type at byte 1, the length (big-endian) at bytes 8-11. */
const HEADER_LENGTH = 12
const TYPE_DATA = 0

/** A Data frame longer than any window this node grants; `reason` makes yamux's abort send GoAway(ProtocolError). */
export class FrameTooLongError extends Error {
  readonly reason = GoAwayCode.ProtocolError
  constructor (length: number, max: number) {
    super(`yamux Data frame of ${length} bytes announced; no stream is granted a window over ${max}`)
    this.name = 'FrameTooLongError'
  }
}

/** The part of @libp2p/yamux 8's YamuxMuxer this reads: its frame decoder (private in its types). */
interface PrivateMuxer { decoder?: PrivateDecoder }
interface PrivateDecoder {
  buffer: QueuedBytes
  readFrame: (this: PrivateDecoder) => unknown
}
/** The part of @libp2p/utils 3's AbstractMessageStream this reads: its write queue and the check run on it (private in its types). */
interface PrivateMessageStream {
  writeBuffer: QueuedBytes & { bufs: Uint8Array[] }
  maxWriteBufferLength?: number
  checkWriteBufferLength: (this: PrivateMessageStream) => void
  abort: (err: Error) => void
}
interface QueuedBytes { byteLength: number, get: (index: number) => number, getUint32: (offset: number) => number }

/**
 * Wraps yamux's factory (node.ts, `streamMuxers`) with two limits on every
 * connection it multiplexes, neither of which the library has an option for:
 *
 * - A Data frame whose header announces more than `maxStreamWindowSize`
 *   closes the connection before its body is read. @libp2p/yamux 8's decoder
 *   buffered the whole frame first (up to 4 GiB, the header's limit) and only
 *   then checked it against the stream's window: one connection announcing
 *   4 GiB and sending 1 GiB grew the daemon by 1 GiB.
 * - The connection's write buffer is bounded (MAX_CONNECTION_WRITE_BUFFER,
 *   each queued piece counted as WRITE_PIECE_COST at least); past it the
 *   connection is aborted (libp2p's StreamBufferError: the socket is reset and
 *   the connection closed).
 *
 * The guards throw, failing every connection, if the library parts this
 * reaches into are gone: pinned by package-lock, tested by
 * test/network/yamux-limits.test.ts.
 */
export function withYamuxLimits<A extends unknown[], M extends StreamMuxer> (factory: (...args: A) => StreamMuxerFactory<M>, limits: YamuxLimits): (...args: A) => StreamMuxerFactory<M> {
  return withMuxerHook(factory, (maConn, create) => {
    limitWriteBuffer(maConn, limits.maxConnectionWriteBuffer ?? MAX_CONNECTION_WRITE_BUFFER)
    const muxer = create(maConn)
    limitDataFrames(muxer, limits.maxStreamWindowSize)
    return muxer
  })
}

/** Makes the muxer's decoder refuse a Data frame longer than `max` as soon as its header is in. */
function limitDataFrames (muxer: StreamMuxer, max: number): void {
  const decoder = (muxer as unknown as PrivateMuxer).decoder
  const readFrame = decoder?.readFrame
  if (decoder == null || typeof readFrame !== 'function' || typeof decoder.buffer?.getUint32 !== 'function') {
    throw new Error('@libp2p/yamux changed: YamuxMuxer.decoder.readFrame is gone; review network/yamux-limits.ts')
  }
  // readFrame is called for every frame the buffer may hold, before the
  // library decides whether the frame's body is all there
  decoder.readFrame = function (this: PrivateDecoder): unknown {
    const buffer = this.buffer
    if (buffer.byteLength >= HEADER_LENGTH && buffer.get(1) === TYPE_DATA) {
      const length = buffer.getUint32(8)
      if (length > max) throw new FrameTooLongError(length, max) // the muxer aborts the connection
    }
    return readFrame.call(this)
  }
}

/** Sets the connection's write buffer limit, with each queued piece counted as WRITE_PIECE_COST bytes at least. */
function limitWriteBuffer (maConn: MessageStream, max: number): void {
  const stream = maConn as unknown as PrivateMessageStream
  const check = stream.checkWriteBufferLength
  if (typeof check !== 'function' || !Array.isArray(stream.writeBuffer?.bufs)) {
    throw new Error('@libp2p/utils changed: AbstractMessageStream.checkWriteBufferLength or its writeBuffer is gone; review network/yamux-limits.ts')
  }
  maConn.maxWriteBufferLength = max
  // the library runs this whenever bytes are queued while the socket is full
  stream.checkWriteBufferLength = function (this: PrivateMessageStream): void {
    const limit = this.maxWriteBufferLength
    if (limit == null) return
    const held = this.writeBuffer.byteLength
    const cost = held + this.writeBuffer.bufs.length * WRITE_PIECE_COST
    if (cost > limit) {
      this.abort(new StreamBufferError(`Write buffer of ${held} bytes in ${this.writeBuffer.bufs.length} pieces exceeded the limit of ${limit}`))
    }
  }
}
