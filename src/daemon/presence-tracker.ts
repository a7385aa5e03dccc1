import { peerIdFromString } from '@libp2p/peer-id'
import type { Contact } from '../contacts/index.js'
import type { NetworkNode, PresenceResolver } from '../network/index.js'
import { summarizeConnection, type ConnectionSummary } from './connection-info.js'

export type PresenceState = 'online' | 'offline' | 'unknown'

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

/**
 * Answers "who of my contacts is online?": an open connection says yes at
 * once; otherwise the newest presence record in the DHT decides. A closed
 * connection drops the cached record, so a clean sign-off shows at once.
 */
export class PresenceTracker {
  private readonly node: NetworkNode
  private readonly resolver: PresenceResolver
  private readonly checkedAt = new Map<string, number>()

  constructor (components: { node: NetworkNode, resolver: PresenceResolver }) {
    this.node = components.node
    this.resolver = components.resolver
  }

  start (): void {
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop (): void {
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Each contact's presence, looking up stale ones in parallel for at most `maxWaitMs`. */
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
    const last = this.checkedAt.get(contact.peerId) ?? 0
    let record = this.resolver.cached(peerId)
    if (record == null || Date.now() - last > RECHECK_AFTER_MS) {
      record = await this.resolver.lookup(peerId, { fresh: true, signal: AbortSignal.timeout(maxWaitMs) })
      this.checkedAt.set(contact.peerId, Date.now())
    }
    if (record == null) return { ...base, presence: 'offline', source: 'none', addresses: [] }
    return { ...base, presence: record.online ? 'online' : 'offline', source: 'dht', addresses: record.addresses }
  }

  private readonly onDisconnect = (evt: CustomEvent): void => {
    this.resolver.invalidate(evt.detail)
  }
}
