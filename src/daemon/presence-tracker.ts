import { peerIdFromString } from '@libp2p/peer-id'
import type { Contact } from '../contacts/index.js'
import type { NetworkNode, PresenceResolver } from '../network/index.js'
import { summarizeConnection, type ConnectionSummary } from './connection-info.js'

/** `checking`: no answer yet from a lookup started in the background (a snapshot that does not wait). */
export type PresenceState = 'online' | 'offline' | 'unknown' | 'checking'

export interface ContactPresence {
  name: string
  peerId: string
  presence: PresenceState
  /** Where the state came from: an open connection, or the DHT record. */
  source: 'connection' | 'dht' | 'none'
  addresses: string[]
  connections: ConnectionSummary[]
}

const RECHECK_AFTER_MS = 5000
/** A lookup nobody waits for may take as long as a connect's. */
const BACKGROUND_LOOKUP_MS = 15_000

type PresenceRecordLike = Awaited<ReturnType<PresenceResolver['lookup']>>

/**
 * Answers "who of my contacts is online?": an open connection says yes at
 * once; otherwise the newest presence record in the DHT decides. A closed
 * connection drops the cached record, so a clean sign-off shows at once.
 */
export class PresenceTracker {
  private readonly node: NetworkNode
  private readonly resolver: PresenceResolver
  private readonly checkedAt = new Map<string, number>()
  private readonly checking = new Map<string, Promise<PresenceRecordLike | undefined>>()
  private readonly onChecked: (contact: Contact) => void

  /** `onChecked`: a lookup that a snapshot did not wait for has finished (the daemon tells the web UI to reload). */
  constructor (components: { node: NetworkNode, resolver: PresenceResolver }, onChecked: (contact: Contact) => void = () => {}) {
    this.node = components.node
    this.resolver = components.resolver
    this.onChecked = onChecked
  }

  start (): void {
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop (): void {
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  /**
   * Each contact's presence, looking up stale ones in parallel for at most
   * `maxWaitMs`. With 0 (the web UI) nothing waits: a contact not known yet
   * is `checking`, and `onChecked` fires when its lookup is done.
   */
  async snapshot (contacts: Contact[], maxWaitMs = 5000): Promise<ContactPresence[]> {
    return await Promise.all(contacts.map(async (c) => await this.one(c, maxWaitMs)))
  }

  private async one (contact: Contact, maxWaitMs: number): Promise<ContactPresence> {
    const peerId = peerIdFromString(contact.peerId)
    const connections = this.node.getConnections(peerId).filter(c => c.status === 'open').map(summarizeConnection)
    const base = { name: contact.name, peerId: contact.peerId, connections }
    if (connections.length > 0) {
      return { ...base, presence: 'online', source: 'connection', addresses: this.resolver.cached(peerId)?.addresses ?? [] }
    }
    const last = this.checkedAt.get(contact.peerId)
    let record = this.resolver.cached(peerId)
    // a lookup that found nothing counts as a check too: "offline" until it is stale
    if (last == null || Date.now() - last > RECHECK_AFTER_MS) {
      const lookup = this.lookup(contact, maxWaitMs)
      if (maxWaitMs > 0) record = await lookup
      else if (record == null && last == null) return { ...base, presence: 'checking', source: 'none', addresses: [] }
    }
    if (record == null) return { ...base, presence: 'offline', source: 'none', addresses: [] }
    return { ...base, presence: record.online ? 'online' : 'offline', source: 'dht', addresses: record.addresses }
  }

  /** One lookup per contact at a time; concurrent snapshots share it. */
  private async lookup (contact: Contact, maxWaitMs: number): Promise<PresenceRecordLike | undefined> {
    const running = this.checking.get(contact.peerId)
    if (running != null) {
      if (maxWaitMs === 0) return await running
      let timer: NodeJS.Timeout | undefined
      const waited = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), maxWaitMs) })
      return await Promise.race([running, waited]).finally(() => clearTimeout(timer))
    }
    const waited = maxWaitMs > 0
    const lookup = this.resolver.lookup(peerIdFromString(contact.peerId), { fresh: true, signal: AbortSignal.timeout(waited ? maxWaitMs : BACKGROUND_LOOKUP_MS) })
      .catch(() => undefined)
      .finally(() => {
        this.checkedAt.set(contact.peerId, Date.now())
        this.checking.delete(contact.peerId)
        if (!waited) this.onChecked(contact)
      })
    this.checking.set(contact.peerId, lookup)
    return await lookup
  }

  private readonly onDisconnect = (evt: CustomEvent): void => {
    this.resolver.invalidate(evt.detail)
  }
}
