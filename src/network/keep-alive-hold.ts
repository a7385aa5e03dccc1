import { KEEP_ALIVE, type PeerId, type Tag, type TagOptions } from '@libp2p/interface'
import type { NetworkNode } from './node.js'

/** How long after a hang-up libp2p may not dial the peer back on its own account. */
export const HANG_UP_HOLD_MS = 5000

/** A tag as the peer store keeps it: some (a relay reservation's) expire. */
type StoredTag = Tag & { expiry?: bigint }
interface Held { peerId: PeerId, tags: Map<string, StoredTag>, timer: NodeJS.Timeout }

/**
 * Keeps libp2p from dialling a peer straight back after the user hung up on
 * it. libp2p's reconnect queue re-dials a peer tagged keep-alive the moment
 * its last connection closes, and kad-dht tags its 20 closest peers so — in
 * a small network, every contact: a hang-up was undone within half a second.
 * So a peer's keep-alive tags are lifted before its connections close and
 * put back when the hold ends; they matter again at the next loss, which the
 * queue should still answer. Dials of our own (a connect, a DHT query) are
 * not held off: only the queue reads these tags, when a peer disconnects (a
 * re-dial it already started, from an earlier loss, runs on).
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
    // taken before any await, so that its restore cannot run meanwhile: a
    // second hang-up inside the hold keeps what the first lifted to go back
    const before = this.held.get(key)
    if (before != null) { clearTimeout(before.timer); this.held.delete(key) }
    const tags = new Map(before?.tags)
    const stored = await this.node.peerStore.get(peerId).then(p => p.tags as Map<string, StoredTag>, () => new Map<string, StoredTag>()) // not in the store: no tags
    const lifted = [...stored].filter(([name]) => name.startsWith(KEEP_ALIVE))
    for (const [name, tag] of lifted) tags.set(name, tag)
    const timer = setTimeout(() => { this.restore(key) }, this.holdMs)
    timer.unref()
    if (tags.size > 0) this.held.set(key, { peerId, tags, timer })
    else clearTimeout(timer)
    if (lifted.length > 0) await this.node.peerStore.merge(peerId, { tags: Object.fromEntries(lifted.map(([name]) => [name, undefined])) })
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
    // like a close peer until the daemon restarts, or until the queue fails
    // to re-dial it five times (it drops the tag then). A tag that expires
    // (a relay reservation's) keeps its expiry; one expired meanwhile stays off.
    const now = Date.now()
    const back: Record<string, TagOptions> = {}
    for (const [name, tag] of h.tags) {
      if (tag.expiry == null) back[name] = { value: tag.value }
      else if (Number(tag.expiry) > now) back[name] = { value: tag.value, ttl: Number(tag.expiry) - now }
    }
    if (Object.keys(back).length === 0) return
    // a peer the store's bound evicted meanwhile is not brought back as tags alone
    this.node.peerStore.has(h.peerId)
      .then(async (known) => { if (known) await this.node.peerStore.merge(h.peerId, { tags: back }) })
      .catch(() => {})
  }
}
