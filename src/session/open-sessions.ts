import type { Stream } from '@libp2p/interface'

/**
 * The sessions other users have open to our services, by caller: when a
 * contact is removed, what they opened as a contact must not outlive it
 * (permission is checked when a session starts, not on every byte).
 */
export class OpenSessions {
  private readonly byCaller = new Map<string, Set<Stream>>()

  /** Counts the stream as `peerId`'s until it closes. */
  add (peerId: string, stream: Stream): void {
    let set = this.byCaller.get(peerId)
    if (set == null) {
      set = new Set()
      this.byCaller.set(peerId, set)
    }
    set.add(stream)
    stream.addEventListener('close', () => {
      set.delete(stream)
      if (set.size === 0 && this.byCaller.get(peerId) === set) this.byCaller.delete(peerId)
    }, { once: true })
  }

  /** Resets every session `peerId` has open; answers how many. */
  endAll (peerId: string, reason: string): number {
    const set = this.byCaller.get(peerId)
    if (set == null) return 0
    this.byCaller.delete(peerId)
    for (const stream of set) stream.abort(new Error(reason))
    return set.size
  }

  /** How many sessions `peerId` has open. */
  count (peerId: string): number {
    return this.byCaller.get(peerId)?.size ?? 0
  }
}
