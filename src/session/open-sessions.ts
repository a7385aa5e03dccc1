import type { Stream } from '@libp2p/interface'

/**
 * The sessions other users have open to our services, by caller: when a
 * contact is removed, what they opened as a contact must not outlive it, nor
 * a session a new rule denies (permission is checked when a session starts,
 * not on every byte).
 *
 * Ended sessions are swept out as the sets grow, not on each stream's close
 * event: a listener per stream is a measurable part of a warm connect's
 * work (docs/BENCHMARKS.md), and this is read only when a contact goes.
 */
export class OpenSessions {
  private readonly byCaller = new Map<string, Map<Stream, string>>()
  /** Sessions in the sets, ended or not. */
  private held = 0
  private sweepAt = MIN_SWEEP

  /** Counts the stream, a session of `service`, as `peerId`'s while it is open. */
  add (peerId: string, stream: Stream, service: string): void {
    let set = this.byCaller.get(peerId)
    if (set == null) {
      set = new Map()
      this.byCaller.set(peerId, set)
    }
    set.set(stream, service)
    this.held++
    if (this.held + this.byCaller.size >= this.sweepAt) this.sweep()
  }

  /** Resets every session `peerId` has open; answers how many. */
  endAll (peerId: string, reason: string): number {
    const set = this.byCaller.get(peerId)
    if (set == null) return 0
    this.byCaller.delete(peerId)
    this.held -= set.size
    let ended = 0
    for (const stream of set.keys()) {
      if (!isOpen(stream)) continue
      stream.abort(new Error(reason))
      ended++
    }
    return ended
  }

  /** Resets every open session for which `ends(peerId, service)` says so; answers how many. */
  endWhere (ends: (peerId: string, service: string) => boolean, reason: string): number {
    let ended = 0
    for (const [peerId, set] of this.byCaller) {
      for (const [stream, service] of set) {
        if (!isOpen(stream) || !ends(peerId, service)) continue
        stream.abort(new Error(reason))
        ended++
      }
    }
    return ended
  }

  /** How many sessions `peerId` has open. */
  count (peerId: string): number {
    let n = 0
    for (const stream of this.byCaller.get(peerId)?.keys() ?? []) if (isOpen(stream)) n++
    return n
  }

  /** Forgets ended sessions and callers with none; the next sweep comes when twice as many are held. */
  private sweep (): void {
    this.held = 0
    for (const [peerId, set] of this.byCaller) {
      for (const stream of set.keys()) if (!isOpen(stream)) set.delete(stream)
      if (set.size === 0) this.byCaller.delete(peerId)
      this.held += set.size
    }
    this.sweepAt = Math.max(MIN_SWEEP, 2 * (this.held + this.byCaller.size))
  }
}

const MIN_SWEEP = 64

function isOpen (stream: Stream): boolean {
  return stream.status === 'open' || stream.status === 'closing'
}
