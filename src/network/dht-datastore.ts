import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import type { AbortOptions } from '@libp2p/interface'
import { MAX_PRESENCE_TTL_MS } from './presence-validator.js'

/** Where kad-dht keeps the records peers ask it to store, and provider records (datastorePrefix '/dht'). */
const RECORD_PREFIX = '/dht/record/'
const PROVIDER_PREFIX = '/dht/provider/'
/** Where libp2p's peer store keeps one record per peer. */
const PEER_PREFIX = '/peers/'

export interface DhtStoreLimits {
  /** Records kept at most; past it, the least recently stored go first. */
  maxRecords: number
  /** Their bytes at most, likewise. */
  maxRecordBytes: number
  /** A record not stored again for this long is dropped: its publisher would have refreshed a live one. */
  maxRecordAgeMs: number
}

/**
 * A DHT server stores what any peer asks it to: kad-dht keeps every record
 * and provider record, without a limit, for 48 hours. A record needs only
 * the signature of the key it names, so a fresh key per record made a
 * security review's client grow a router by ~1 GB in minutes. A handful of
 * thousands of presence records is what a server holds in a large network
 * (each user's record on the 20 servers closest to it).
 */
export const DEFAULT_DHT_STORE_LIMITS: DhtStoreLimits = {
  maxRecords: 20_000,
  maxRecordBytes: 32 << 20,
  maxRecordAgeMs: MAX_PRESENCE_TTL_MS + 3600_000
}

/**
 * The node's datastore (libp2p's peer store and kad-dht keep theirs in it):
 * in memory, with the DHT's records bounded (DhtStoreLimits) and provider
 * records not kept at all, since cspace looks up users, not content.
 *
 * Every value is kept as a copy of its own: what libp2p hands over is often a
 * view into a larger pooled buffer, and a 190-byte peer record kept that way
 * held ~2.9 KiB. Peer records are listed least recently stored first, and
 * counted, for boundPeerStore (peer-store-bound.ts).
 */
export class DhtDatastore extends MemoryDatastore {
  /** Each record's size and when it was last stored, oldest first. */
  private readonly records = new Map<string, { bytes: number, at: number }>()
  private recordBytes = 0
  private peers = 0
  private peerBytesHeld = 0
  /** Called after a peer record is stored (new or again). */
  onPeerStored?: () => void
  private readonly limits: DhtStoreLimits

  constructor (limits: Partial<DhtStoreLimits> = {}, private readonly now: () => number = Date.now) {
    super()
    this.limits = { ...DEFAULT_DHT_STORE_LIMITS, ...limits }
  }

  /** How many records, and their bytes, are held. */
  get recordUsage (): { records: number, bytes: number } {
    return { records: this.records.size, bytes: this.recordBytes }
  }

  /** How many peer records are held. */
  get peerCount (): number {
    return this.peers
  }

  /** The peer records' bytes. */
  get peerBytes (): number {
    return this.peerBytesHeld
  }

  override put (key: Key, val: Uint8Array, options?: AbortOptions): Key | Promise<Key> {
    const k = key.toString()
    if (k.startsWith(PROVIDER_PREFIX)) return key
    val = val.slice()
    if (k.startsWith(PEER_PREFIX)) return this.putPeer(key, val, options)
    if (!k.startsWith(RECORD_PREFIX)) return super.put(key, val, options)
    this.forget(k)
    this.records.set(k, { bytes: val.byteLength, at: this.now() })
    this.recordBytes += val.byteLength
    const result = super.put(key, val, options)
    this.evict(k)
    return result
  }

  override delete (key: Key, options?: AbortOptions): void | Promise<void> {
    const k = key.toString()
    if (k.startsWith(PEER_PREFIX) && super.has(key) === true) {
      this.peers--
      this.peerBytesHeld -= (super.get(key) as Uint8Array).byteLength
    }
    this.forget(k)
    return super.delete(key, options)
  }

  /** Stored again, a peer record moves to the end of the listing order (a Map's order is its insertion order). */
  private putPeer (key: Key, val: Uint8Array, options?: AbortOptions): Key | Promise<Key> {
    const isNew = super.has(key) !== true
    if (!isNew) {
      this.peerBytesHeld -= (super.get(key) as Uint8Array).byteLength
      void super.delete(key)
    }
    const result = super.put(key, val, options)
    this.peerBytesHeld += val.byteLength
    if (isNew) this.peers++
    this.onPeerStored?.()
    return result
  }

  private forget (k: string): void {
    const held = this.records.get(k)
    if (held == null) return
    this.records.delete(k)
    this.recordBytes -= held.bytes
  }

  /** Drops the oldest records while any is too old or there are too many; never `keep`, just stored. */
  private evict (keep: string): void {
    const oldestAllowed = this.now() - this.limits.maxRecordAgeMs
    for (const [k, held] of this.records) {
      if (k === keep) break
      const over = this.records.size > this.limits.maxRecords || this.recordBytes > this.limits.maxRecordBytes
      if (!over && held.at >= oldestAllowed) break
      this.forget(k)
      void super.delete(new Key(k, false))
    }
  }
}
