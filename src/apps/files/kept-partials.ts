import type { Manifest } from './manifest.js'
import { PartialTransfer } from './partial.js'

/**
 * Memory kept for transfers between their connections, in all (their
 * chunks' state and manifests, PartialTransfer.heldBytes). Past it the
 * longest-idle transfer is let go; its next connection re-reads it.
 */
export const MAX_KEPT_BYTES = 128 * 1024 * 1024

/**
 * The partial transfers of this process, kept between a sender's
 * connections. Opening one from disk re-reads and re-hashes every chunk it
 * holds (PartialTransfer.open: ~2 s per GiB), which is right after a crash
 * but was paid on every reconnect too, so a sender could make the receiver
 * re-hash a gigabyte for each 89-byte offer. An instance is reused only if
 * it is the last one opened for its transfer: then nothing else has written
 * its chunks or its log since.
 */
export class KeptPartials {
  /** The latest instance of each transfer, and whether a connection uses it now; oldest released first. */
  private readonly latest = new Map<string, { partial: PartialTransfer, inUse: boolean }>()

  /** The transfer's state for a new connection: the kept instance, or one read from disk. */
  async open (id: string, dir: string, manifest: Manifest): Promise<PartialTransfer> {
    const kept = this.latest.get(id)
    const reuse = kept != null && !kept.inUse && kept.partial.dir === dir && kept.partial.resume()
    const partial = reuse ? kept.partial : await PartialTransfer.open(dir, manifest)
    // (re-)inserted: the map's order is the order of use
    this.latest.delete(id)
    this.latest.set(id, { partial, inUse: true })
    return partial
  }

  /** The connection is over (`partial` closed); kept if it is still the latest, unless the transfer is finished. */
  release (id: string, partial: PartialTransfer, finished: boolean): void {
    const entry = this.latest.get(id)
    if (entry?.partial !== partial) return
    this.latest.delete(id)
    if (finished) return
    this.latest.set(id, { partial, inUse: false })
    let kept = 0
    for (const e of this.latest.values()) if (!e.inUse) kept += e.partial.heldBytes
    for (const [key, e] of this.latest) {
      if (kept <= MAX_KEPT_BYTES) break
      if (e.inUse) continue
      this.latest.delete(key)
      kept -= e.partial.heldBytes
    }
  }

  /** The transfer was removed or declined: its state goes with it. */
  forget (id: string): void {
    this.latest.delete(id)
  }

  /** Transfers kept between connections now. */
  get size (): number {
    let n = 0
    for (const e of this.latest.values()) if (!e.inUse) n++
    return n
  }
}
