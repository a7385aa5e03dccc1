import type { StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'
import { YamuxStream } from '@libp2p/yamux/stream'
import { withMuxerHook } from './muxer-hook.js'

/** Unsent bytes a connection may hold, beyond what its socket holds, before its streams wait for the socket's drain (one more socket-full, native-tls.ts). */
export const CONNECTION_QUEUE_HIGH_WATER = 1024 * 1024

/** yamux's Data frame type (frame header byte 1). */
const TYPE_DATA = 0

/** The parts of @libp2p/utils 3's AbstractMessageStream, the connection's and each stream's, this reaches (private in its types). */
interface PrivateMessageStream {
  /** Set while it waits for a drain before sending on. */
  writableNeedsDrain: boolean
  /** What it holds unsent. */
  writeBuffer: { byteLength: number }
}

/** The parts of @libp2p/yamux 8's YamuxStream this reaches (private in its types). */
interface PrivateStream extends Partial<PrivateMessageStream> {
  streamId?: number
  /** Sends what the stream holds, as far as its window and the connection let it; send() and 'drain' call it. */
  processSendQueue?: () => boolean
}

/** The parts of @libp2p/yamux 8's YamuxMuxer this reaches (private in its types). */
interface PrivateMuxer {
  /** @libp2p/utils 3's AbstractStreamMuxer: the streams told of a drain, in this order. */
  streams: PrivateStream[]
  /** Each stream binds this at creation and sends every frame through it. */
  sendFrame: (header: { type: number, streamID: number }, data?: unknown) => boolean
}

/**
 * Serves a connection's streams in turn when its socket is full.
 *
 * When the socket asks to wait, @libp2p/utils tells every stream of the
 * connection to wait; when it drains, it tells them all to go on, in the
 * order they were opened. The first stream with bytes queued fills the
 * socket again and the rest wait for the next drain, so the oldest busy
 * stream always went first and a stream opened later waited for every older
 * one to run dry. With 400 saturated tunnels to one contact, 359 of the 400
 * sessions' requests sat unsent until the callee gave up on them (libp2p's
 * 10 s protocol negotiation), and a new connect timed out
 * (docs/BENCHMARKS.md, "Many busy tunnels to one contact").
 *
 * Here the stream whose Data frame filled the socket moves to the end of
 * that order, so the next drain goes to the next stream with bytes queued:
 * busy streams take turns, as SSH channels or HTTP/2 streams do. A new
 * stream starts at the front: its first bytes (a session's request, a
 * keystroke's connect) go with the next drain instead of after a turn of
 * every busy stream, and once it is busy itself it queues like the rest.
 * Window updates and other control frames are not ordered; they never
 * waited.
 *
 * And once the connection holds CONNECTION_QUEUE_HIGH_WATER that its socket
 * has not taken, every stream waits for the socket's drain. The connection
 * tells its streams of every drain of its socket, even when what it then
 * flushes fills the socket again, and the first stream's turn added a whole
 * frame (up to ~320 KiB of a tunnel's queue) each time; yamux also tells a
 * stream 'drain' when a window update reopens its window, whatever the
 * socket's state. When the socket drained in steps smaller than a frame,
 * more went in per drain than came out, the buffer grew to its 32 MiB limit
 * (yamux-limits.ts) and the connection, with every tunnel on it, was cut
 * (50 busy tunnels with a 64 KiB TLS high-water mark: 3 runs in 4). Below
 * the mark nothing changes, so a lone busy stream keeps a socket-full staged.
 *
 * Wraps yamux's factory (node.ts, `streamMuxers`) and throws, failing every
 * connection, if the library parts it reaches are gone: pinned by
 * package-lock, tested by test/network/yamux-streams-in-turn.test.ts.
 */
export function withStreamsInTurn<A extends unknown[], M extends StreamMuxer> (factory: (...args: A) => StreamMuxerFactory<M>): (...args: A) => StreamMuxerFactory<M> {
  return withMuxerHook(factory, (maConn, create) => {
    const muxer = create(maConn)
    serveInTurn(muxer as unknown as PrivateMuxer, maConn as unknown as PrivateMessageStream)
    return muxer
  })
}

function serveInTurn (muxer: PrivateMuxer, connection: PrivateMessageStream): void {
  const streams = muxer.streams
  const sendFrame = muxer.sendFrame
  if (!Array.isArray(streams) || typeof sendFrame !== 'function' || typeof connection.writableNeedsDrain !== 'boolean' || typeof connection.writeBuffer?.byteLength !== 'number' ||
    typeof (YamuxStream.prototype as unknown as PrivateStream).processSendQueue !== 'function') {
    throw new Error('@libp2p/yamux changed: YamuxMuxer.streams or sendFrame, YamuxStream.processSendQueue or the connection\'s writableNeedsDrain or writeBuffer is gone; review network/yamux-streams-in-turn.ts')
  }
  // the library adds each new stream with push; it goes first instead (moveToEnd uses the array's own push)
  Object.defineProperty(streams, 'push', {
    value: (...added: PrivateStream[]) => {
      for (const stream of added) waitWhileConnectionFull(stream, connection)
      return streams.unshift(...added)
    },
    enumerable: false
  })
  // an own property: each stream binds the muxer's sendFrame when it is created, after this
  muxer.sendFrame = function (header, data) {
    const more = sendFrame.call(this, header, data)
    if (!more && header.type === TYPE_DATA) moveToEnd(streams, header.streamID)
    return more
  }
}

/** Makes `stream` wait for the socket's drain while the connection holds CONNECTION_QUEUE_HIGH_WATER or more that the socket has not taken. */
function waitWhileConnectionFull (stream: PrivateStream, connection: PrivateMessageStream): void {
  const processSendQueue = stream.processSendQueue
  if (processSendQueue == null) return
  // an own property (bound at creation), which send() and the drain handler call
  stream.processSendQueue = function (): boolean {
    // the library's own check then finds it waiting; the next drain tells it to go on
    if (connection.writableNeedsDrain && connection.writeBuffer.byteLength >= CONNECTION_QUEUE_HIGH_WATER) stream.writableNeedsDrain = true
    return processSendQueue()
  }
}

/** Moves the stream with `id` behind all others (already there: nothing to do, the common case of one busy stream). */
function moveToEnd (streams: PrivateStream[], id: number): void {
  const last = streams.length - 1
  if (last < 1 || streams[last].streamId === id) return
  const index = streams.findIndex(s => s.streamId === id)
  if (index === -1) return
  const [stream] = streams.splice(index, 1)
  Array.prototype.push.call(streams, stream)
}
