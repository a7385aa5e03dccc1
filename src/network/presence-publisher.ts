import type { PrivateKey } from '@libp2p/interface'
import { isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { componentLogger } from '../util/log.js'
import { encodePresence, presenceKey, MAX_PRESENCE_ADDRESSES } from './presence-record.js'
import type { NetworkNode } from './node.js'
import type { SingleKadDHT } from '@libp2p/kad-dht'

const log = componentLogger('network:presence:publish')

export interface PresencePublisherComponents {
  node: NetworkNode
  privateKey: PrivateKey
  /** The last sequence number used, persisted so a restart never goes backwards. */
  sequence: { load: () => number, save: (seq: number) => void }
}

export interface PresencePublisherInit {
  ttlSeconds: number
  allowPrivateAddresses: boolean
  /** How long one publication may take before it is retried later. */
  publishTimeoutMs?: number
}

interface RoutingTableView {
  size: number
  addEventListener?: (type: 'peer:add', listener: () => void) => void
  removeEventListener?: (type: 'peer:add', listener: () => void) => void
}

export interface PublishResult { seq: number, addresses: string[], peers: number }

/**
 * A record lives on the peers closest to its key when it was published; in a
 * network that has since grown, closer peers have joined that do not hold it,
 * and lookups miss it until the next refresh (half the TTL). So the record is
 * published again whenever the DHT routing table has doubled since: a few
 * times while a network grows from nothing, never in a steady one.
 */
const GROWTH_FACTOR = 2
/** Lets a burst of joins settle into one republication. */
const GROWTH_REPUBLISH_DELAY_MS = 3000

/**
 * Keeps this user's signed presence record in the DHT: published on start,
 * refreshed at half its lifetime, whenever the listen addresses change and
 * when the DHT around it has grown (GROWTH_FACTOR), retried with backoff while no DHT peer accepted it, and replaced by an
 * offline record on a clean stop.
 */
export class PresencePublisher {
  private readonly components: PresencePublisherComponents
  private readonly init: Required<PresencePublisherInit>
  private timer?: NodeJS.Timeout
  private chain: Promise<unknown> = Promise.resolve()
  private failures = 0
  private stopped = true
  /** Aborts a publication in flight when the daemon stops. */
  private readonly stopping = new AbortController()
  private lastPublishedAddresses = ''
  /** DHT routing-table size at the last publication, and whether a growth republication is due. */
  private tableSizeAtPublish = 0
  private growthRepublishDue = false
  last?: PublishResult & { at: number }

  constructor (components: PresencePublisherComponents, init: PresencePublisherInit) {
    this.components = components
    this.init = { publishTimeoutMs: 30_000, ...init }
  }

  start (): void {
    this.stopped = false
    this.components.node.addEventListener('self:peer:update', this.onAddressChange)
    this.components.node.addEventListener('peer:identify', this.onPeer)
    this.routingTable()?.addEventListener?.('peer:add', this.onRoutingTableAdd)
    this.schedule(0)
  }

  /** Publishes the offline record (best effort, bounded) and stops refreshing. */
  async stop (timeoutMs = 5000): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.components.node.removeEventListener('self:peer:update', this.onAddressChange)
    this.components.node.removeEventListener('peer:identify', this.onPeer)
    this.routingTable()?.removeEventListener?.('peer:add', this.onRoutingTableAdd)
    this.stopping.abort()
    await this.chain.catch(() => {})
    // nobody to tell: a node without connections has no DHT peer to store it
    if (this.components.node.getConnections().length === 0) return
    try {
      await this.publishOnce(false, timeoutMs, false)
    } catch (err) {
      log('offline record not published: %e', err)
    }
  }

  /** The addresses this node tells others to dial, as published. */
  dialableAddresses (): string[] {
    const seen = new Set<string>()
    for (const ma of this.components.node.getMultiaddrs()) {
      const bare = ma.decapsulateCode(421).toString() // drop /p2p/<id>
      if (!this.init.allowPrivateAddresses && isPrivate(multiaddr(bare))) continue
      seen.add(bare)
    }
    return [...seen].slice(0, MAX_PRESENCE_ADDRESSES)
  }

  /** Publishes now (queued behind any publication in flight). */
  async publish (): Promise<PublishResult> {
    const p = this.chain.then(async () => await this.publishOnce(true, this.init.publishTimeoutMs))
    this.chain = p.catch(() => {})
    return await p
  }

  private async publishOnce (online: boolean, timeoutMs: number, abortable = true): Promise<PublishResult> {
    const { node, privateKey, sequence } = this.components
    const seq = Math.max(sequence.load() + 1, Date.now())
    sequence.save(seq)
    const addresses = online ? this.dialableAddresses() : []
    const value = await encodePresence(privateKey, { addresses, seq, expires: Date.now() + this.init.ttlSeconds * 1000, online })
    let peers = 0
    const signal = abortable ? AbortSignal.any([AbortSignal.timeout(timeoutMs), this.stopping.signal]) : AbortSignal.timeout(timeoutMs)
    try {
      for await (const event of node.services.dht.put(presenceKey(node.peerId), value, { signal })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') peers++
      }
    } catch (err) {
      if (peers === 0) throw err
    }
    log('published seq %d online=%s to %d peers: %s', seq, online, peers, addresses.join(' '))
    this.tableSizeAtPublish = this.routingTableSize()
    this.growthRepublishDue = false
    this.lastPublishedAddresses = addresses.join(' ')
    this.last = { seq, addresses, peers, at: Date.now() }
    return { seq, addresses, peers }
  }

  private schedule (delayMs: number): void {
    if (this.stopped) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { void this.refresh() }, delayMs)
    this.timer.unref()
  }

  private async refresh (): Promise<void> {
    try {
      const r = await this.publish()
      if (r.peers === 0) throw new Error('no DHT peer accepted the record')
      this.failures = 0
      this.schedule(this.init.ttlSeconds * 1000 / 2)
    } catch (err) {
      this.failures++
      const backoff = Math.min(60_000, 1000 * 2 ** Math.min(this.failures, 6))
      log('publication failed (%e); retrying in %d ms', err, backoff)
      this.schedule(backoff)
    }
  }

  private readonly onAddressChange = (): void => {
    if (this.dialableAddresses().join(' ') !== this.lastPublishedAddresses) this.schedule(500)
  }

  private routingTable (): RoutingTableView | undefined {
    // kad-dht's single-DHT service has an event-emitting routing table; its KadDHT type says only `size`
    return (this.components.node.services.dht as Partial<SingleKadDHT>).routingTable as RoutingTableView | undefined
  }

  private routingTableSize (): number {
    return this.routingTable()?.size ?? 0
  }

  // A first DHT peer after a failed publication: try again right away.
  private readonly onPeer = (): void => {
    if (this.failures > 0) {
      this.failures = 0
      this.schedule(200)
    }
  }

  // A DHT grown to twice its size since the last publication: publish again soon.
  private readonly onRoutingTableAdd = (): void => {
    if (this.last != null && this.failures === 0 && !this.growthRepublishDue && this.routingTableSize() >= GROWTH_FACTOR * Math.max(1, this.tableSizeAtPublish)) {
      this.growthRepublishDue = true
      log('DHT grew from %d to %d peers since the last publication; publishing again', this.tableSizeAtPublish, this.routingTableSize())
      this.schedule(GROWTH_REPUBLISH_DELAY_MS)
    }
  }
}
