import { KEEP_ALIVE, type PeerId, type TagOptions } from '@libp2p/interface'
import type { NetworkNode } from './node.js'

/** How long after a hang-up libp2p may not dial the peer back on its own account. */
export const HANG_UP_HOLD_MS = 5000

interface Held { peerId: PeerId, tags: Record<string, TagOptions>, timer: NodeJS.Timeout }

/**
 * Keeps libp2p from dialling a peer straight back after the user hung up on
 * it. libp2p's reconnect queue re-dials a peer tagged keep-alive the moment
 * its last connection closes, and kad-dht tags its 20 closest peers so — in
 * a small network, every contact: a hang-up was undone within half a second.
 * So a peer's keep-alive tags are lifted before its connections close and
 * put back when the hold ends; they matter again at the next loss, which the
 * queue should still answer. Dials of our own (a connect, a DHT query) are
 * not held off: only the queue reads these tags.
 */
export class KeepAliveHold {
  private readonly node: NetworkNode
  private readonly holdMs: number
  private readonly held = new Map<string, Held>()

  constructor (node: NetworkNode, holdMs = HANG_UP_HOLD_MS) {
    this.node = node
    this.holdMs = holdMs
  }

  /** Lifts `peerId`'s keep-alive tags for the hold; call before closing its connections. */
  async lift (peerId: PeerId): Promise<void> {
    const key = peerId.toString()
    const lifted: Record<string, TagOptions> = {}
    const tags = await this.node.peerStore.get(peerId).then(p => p.tags, () => new Map()) // not in the store: no tags
    for (const [name, tag] of tags) if (name.startsWith(KEEP_ALIVE)) lifted[name] = { value: tag.value }
    if (Object.keys(lifted).length > 0) {
      await this.node.peerStore.merge(peerId, { tags: Object.fromEntries(Object.keys(lifted).map(name => [name, undefined])) })
    }
    // a second hang-up inside the hold: what the first lifted is still to go back
    const before = this.held.get(key)
    if (before != null) clearTimeout(before.timer)
    const all = { ...before?.tags, ...lifted }
    if (Object.keys(all).length === 0) { this.held.delete(key); return }
    const timer = setTimeout(() => { this.restore(key) }, this.holdMs)
    timer.unref()
    this.held.set(key, { peerId, tags: all, timer })
  }

  /** Drops the pending restores (the node is stopping; kad-dht tags its closest peers afresh at start). */
  clear (): void {
    for (const h of this.held.values()) clearTimeout(h.timer)
    this.held.clear()
  }

  private restore (key: string): void {
    const h = this.held.get(key)
    if (h == null) return
    this.held.delete(key)
    // kad-dht does not say which peers it tags: one it stopped counting among
    // its closest during the hold gets its tag back all the same, and is kept
    // like a close peer until the daemon restarts (rare, and harmless)
    this.node.peerStore.merge(h.peerId, { tags: h.tags }).catch(() => {})
  }
}
