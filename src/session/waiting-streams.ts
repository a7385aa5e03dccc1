/**
 * Connect streams that wait for their request, counted per connection.
 *
 * A caller's spare streams wait up to two minutes for theirs
 * (spare-streams.ts), so an idle stream is normal; but each costs the callee
 * ~20 KiB, and a connection may open 1024. A stranger may therefore keep only
 * a few waiting: enough for their spares and a burst of connects, whose
 * requests arrive within milliseconds. (A security review held 4000 streams
 * open from one stranger: +90 MiB; with 300 connections, gigabytes.)
 */
export class WaitingStreams {
  private readonly byConnection = new Map<string, number>()

  constructor (private readonly limit: number) {}

  /** Counts one more waiting stream on the connection; false, counting nothing, when it already has `limit`. */
  enter (connectionId: string): boolean {
    const n = this.byConnection.get(connectionId) ?? 0
    if (n >= this.limit) return false
    this.byConnection.set(connectionId, n + 1)
    return true
  }

  /** The stream's request came, or the stream ended. */
  leave (connectionId: string): void {
    const n = (this.byConnection.get(connectionId) ?? 0) - 1
    if (n > 0) this.byConnection.set(connectionId, n)
    else this.byConnection.delete(connectionId)
  }

  /** How many wait on the connection. */
  count (connectionId: string): number {
    return this.byConnection.get(connectionId) ?? 0
  }
}

/** A stranger's connect streams that may wait for their request at once, per connection: two spares and a burst. */
export const STRANGER_WAITING_STREAMS = 8
