/**
 * Connect streams that wait for their request, counted per connection and in all.
 *
 * A caller's spare streams wait up to two minutes for theirs
 * (spare-streams.ts), so an idle stream is normal; but each costs the callee
 * ~20 KiB, and a connection may open 1024. A stranger may therefore keep only
 * a few waiting: enough for their spares and a burst of connects, whose
 * requests arrive within milliseconds. (A security review held 4000 streams
 * open from one stranger: +90 MiB; with 300 connections, gigabytes.) The
 * limit in all keeps strangers on many connections to a few MiB; a refused
 * spare only makes its caller's next connect open a fresh stream, which
 * carries its request at once.
 */
export class WaitingStreams {
  private readonly byConnection = new Map<string, number>()
  private total = 0

  constructor (private readonly limit: number, private readonly limitInAll = Infinity) {}

  /** Counts one more waiting stream on the connection; false, counting nothing, when it already has `limit` or all have `limitInAll`. */
  enter (connectionId: string): boolean {
    const n = this.byConnection.get(connectionId) ?? 0
    if (n >= this.limit || this.total >= this.limitInAll) return false
    this.byConnection.set(connectionId, n + 1)
    this.total++
    return true
  }

  /** The stream's request came, or the stream ended. */
  leave (connectionId: string): void {
    const n = this.byConnection.get(connectionId)
    if (n == null) return
    this.total--
    if (n > 1) this.byConnection.set(connectionId, n - 1)
    else this.byConnection.delete(connectionId)
  }

  /** How many wait on the connection, or on all of them. */
  count (connectionId?: string): number {
    return connectionId == null ? this.total : this.byConnection.get(connectionId) ?? 0
  }
}

/** A stranger's connect streams that may wait for their request at once, per connection: two spares and a burst. */
export const STRANGER_WAITING_STREAMS = 8
/** Strangers' waiting connect streams at once, on all connections: ~10 MiB, above two spares for each of 250 strangers. */
export const STRANGER_WAITING_STREAMS_IN_ALL = 512
