import type { MessageStream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

/**
 * Wraps a stream muxer factory (node.ts, `streamMuxers`) so that every muxer
 * it makes goes through `hook`, which gets the connection and the library's
 * own `create` and returns the muxer: how cspace adds to yamux what it has no
 * option for (yamux-limits.ts, yamux-streams-in-turn.ts).
 */
export function withMuxerHook<A extends unknown[], M extends StreamMuxer> (factory: (...args: A) => StreamMuxerFactory<M>, hook: (maConn: MessageStream, create: (maConn: MessageStream) => M) => M): (...args: A) => StreamMuxerFactory<M> {
  return (...args) => {
    const muxers = factory(...args)
    const create = muxers.createStreamMuxer.bind(muxers)
    muxers.createStreamMuxer = (maConn) => hook(maConn, create)
    return muxers
  }
}
