import type { PeerId } from '@libp2p/interface'
import { componentLogger } from '../util/log.js'
import { decodePresence, presenceKey, type PresenceRecord } from './presence-record.js'
import { checkExpiry } from './presence-validator.js'
import type { NetworkNode } from './node.js'

const log = componentLogger('network:presence:resolve')

/**
 * A lookup ends once this many valid records have come back, instead of when
 * the whole DHT query has finished. The newest of them wins by seq, so one
 * lagging replica is outvoted; a lookup after a failed dial (`fresh`) waits
 * for the whole query, in case every early answer was stale.
 */
export const EARLY_QUORUM = 3

/**
 * How long a lookup answers with a cached "online, no address yet" record
 * before asking the DHT again (it stays cached, for status, until it
 * expires). A user behind a NAT publishes one at start and while rejoining,
 * then his relay addresses seconds later: answered until it expired (an
 * hour), it had refused every connect to him meanwhile.
 */
export const ADDRESSLESS_CACHE_MS = 3000

export interface PresenceResolverComponents {
  node: NetworkNode
}

export interface PresenceResolverInit {
  /** A lookup that finds nothing within this time reports "not found". */
  lookupTimeoutMs?: number
  now?: () => number
}

export interface LookupOptions {
  signal?: AbortSignal
  /** Skip the cache (e.g. after a dial to the cached addresses failed). */
  fresh?: boolean
  /**
   * Called with the first valid record the query finds, before the lookup
   * has its quorum (not for a cached one): a caller may dial it at once.
   * It is signed by the user, but may be older than the one returned.
   */
  onFirstRecord?: (record: PresenceRecord) => void
}

/** A DHT query in progress, shared by concurrent lookups of one user; stopped once none of them waits. */
interface Query {
  result: Promise<PresenceRecord | undefined>
  first?: PresenceRecord
  onFirst: Set<(record: PresenceRecord) => void>
  waiters: number
  stop: AbortController
}

/**
 * Finds users' presence records in the DHT. Every record is checked again here
 * (signature, key, expiry) whatever the DHT nodes claimed, and cached until it
 * expires; concurrent lookups of one user share a single DHT query.
 */
export class PresenceResolver {
  private readonly node: NetworkNode
  private readonly timeoutMs: number
  private readonly now: () => number
  /** Each user's newest record, and when it was cached. */
  private readonly cache = new Map<string, { record: PresenceRecord, at: number }>()
  private readonly inflight = new Map<string, Query>()

  constructor (components: PresenceResolverComponents, init: PresenceResolverInit = {}) {
    this.node = components.node
    this.timeoutMs = init.lookupTimeoutMs ?? 10_000
    this.now = init.now ?? Date.now
  }

  /** The newest valid record for this user, or undefined when none is found. */
  async lookup (peerId: PeerId, options: LookupOptions = {}): Promise<PresenceRecord | undefined> {
    const id = peerId.toString()
    if (options.fresh !== true) {
      const cached = this.cached(peerId)
      if (cached != null && !this.addresslessAndOld(peerId)) return cached
    }
    let q = this.inflight.get(id)
    if (q == null) {
      const query: Query = { result: Promise.resolve(undefined), onFirst: new Set(), waiters: 0, stop: new AbortController() }
      query.result = this.query(peerId, options.fresh === true ? Infinity : EARLY_QUORUM, query).finally(() => this.inflight.delete(id))
      this.inflight.set(id, query)
      q = query
    }
    const onFirst = options.onFirstRecord
    if (onFirst != null) {
      if (q.first != null) tell(onFirst, q.first)
      else q.onFirst.add(onFirst)
    }
    // a caller that gives up gets what is cached; the query stops when no one waits
    const signal = options.signal
    let leave = (): void => {}
    const left = new Promise<PresenceRecord | undefined>((resolve) => {
      leave = () => resolve(this.cached(peerId))
      if (signal?.aborted === true) leave()
      else signal?.addEventListener('abort', leave, { once: true })
    })
    q.waiters++
    try {
      return await Promise.race([q.result, left])
    } finally {
      signal?.removeEventListener('abort', leave)
      if (onFirst != null) q.onFirst.delete(onFirst)
      if (--q.waiters === 0) q.stop.abort()
    }
  }

  /** A cached record that has not expired, without touching the network. */
  cached (peerId: PeerId): PresenceRecord | undefined {
    const entry = this.cache.get(peerId.toString())
    if (entry == null) return undefined
    if (entry.record.expires <= this.now()) {
      this.cache.delete(peerId.toString())
      return undefined
    }
    return entry.record
  }

  /** An "online, no address yet" record cached longer than ADDRESSLESS_CACHE_MS ago: a lookup asks the DHT again. */
  private addresslessAndOld (peerId: PeerId): boolean {
    const entry = this.cache.get(peerId.toString())
    return entry != null && entry.record.online && entry.record.addresses.length === 0 && this.now() - entry.at >= ADDRESSLESS_CACHE_MS
  }

  invalidate (peerId: PeerId): void {
    this.cache.delete(peerId.toString())
  }

  private async query (peerId: PeerId, quorum: number, progress: Query): Promise<PresenceRecord | undefined> {
    const key = presenceKey(peerId)
    const signals = [AbortSignal.timeout(this.timeoutMs), progress.stop.signal]
    let best: PresenceRecord | undefined
    let valid = 0
    const started = performance.now()
    try {
      // kad-dht yields VALUE only once the whole query is done; each peer's
      // answer carries its record earlier, in PEER_RESPONSE
      for await (const event of this.node.services.dht.get(key, { signal: AbortSignal.any(signals) })) {
        const value = event.name === 'VALUE' ? event.value : event.name === 'PEER_RESPONSE' ? event.record?.value : undefined
        if (value == null || !('from' in event)) continue
        try {
          const r = await decodePresence(key, value)
          checkExpiry(r, this.now())
          if (best == null || r.seq > best.seq) best = r
          if (progress.first == null) {
            log('first record of %p after %d ms, from %p', peerId, Math.round(performance.now() - started), event.from)
            progress.first = r
            for (const f of progress.onFirst) tell(f, r)
            progress.onFirst.clear()
          }
          if (++valid >= quorum) break
        } catch (err) {
          log('discarding record from %p: %e', event.from, err)
        }
      }
    } catch (err) {
      log('lookup of %p ended: %e', peerId, err)
    }
    log('lookup of %p: %d valid record(s) in %d ms, %s', peerId, valid, Math.round(performance.now() - started), valid >= quorum ? 'quorum reached' : 'whole query')
    const previous = this.cached(peerId)
    if (best != null && (previous == null || best.seq >= previous.seq)) this.cache.set(peerId.toString(), { record: best, at: this.now() })
    return best ?? previous
  }
}

/** A caller's callback failing is the caller's problem, not the query's. */
function tell (f: (record: PresenceRecord) => void, record: PresenceRecord): void {
  try {
    f(record)
  } catch (err) {
    log.error('a first-record callback failed: %e', err)
  }
}
