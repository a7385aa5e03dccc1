import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Contact } from '../contacts/index.js'
import type { NetworkNode, PresenceResolver } from '../network/index.js'
import { dialTargetFor, DIAL_LOST_MS } from '../session/index.js'
import { summarizeConnection, type ConnectionSummary } from './connection-info.js'
import { LostContacts } from './lost-contacts.js'

/**
 * `checking`: no answer yet from a lookup started in the background (a
 * snapshot that does not wait). `unreachable`: the connection to them was
 * lost, their record says online (or is older than that connection), and a
 * dial failed — a daemon that stopped without signing off (killed, crashed,
 * its machine gone).
 */
export type PresenceState = 'online' | 'offline' | 'unknown' | 'checking' | 'unreachable'

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
 *
 * A record says only what its publisher last said, for up to its lifetime
 * (an hour by default): a daemon killed without signing off stays "online"
 * in the DHT. So a contact whose connection was lost (not hung up here) is
 * dialled at each check while its record says online, until a connection
 * opens again: it is online if it answers, `unreachable` if not. An offline
 * record older than that connection is no news either (they came back after
 * it, and their new record has not reached the DHT, or not this lookup), so
 * it is treated the same way, dialled at the addresses they last said they
 * listen on (`LostContacts`). Contacts never connected are not dialled: a
 * status must not open connections to everyone.
 */
export class PresenceTracker {
  private readonly node: NetworkNode
  private readonly resolver: PresenceResolver
  private readonly checkedAt = new Map<string, number>()
  private readonly checking = new Map<string, Promise<PresenceRecordLike | undefined>>()
  private readonly onChecked: (contact: Contact) => void
  /** Contacts whose connection was lost; only a new connection ends a loss. Shared with the sessions' connects. */
  readonly lost: LostContacts

  /** `onChecked`: a lookup that a snapshot did not wait for has finished (the daemon tells the web UI to reload). */
  constructor (components: { node: NetworkNode, resolver: PresenceResolver, isContact: (peerId: string) => boolean }, onChecked: (contact: Contact) => void = () => {}) {
    this.node = components.node
    this.resolver = components.resolver
    this.onChecked = onChecked
    this.lost = new LostContacts(this.node, components.isContact, (peerId) => this.resolver.cached(peerId)?.seq)
  }

  start (): void {
    this.lost.start()
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop (): void {
    this.lost.stop()
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
    const connected = this.connected(contact, peerId)
    if (connected != null) return connected
    const last = this.checkedAt.get(contact.peerId)
    let record = this.resolver.cached(peerId)
    const base = { name: contact.name, peerId: contact.peerId, connections: [] }
    // a lookup that found nothing counts as a check too: "offline" until it is stale
    if (last == null || Date.now() - last > RECHECK_AFTER_MS) {
      const lookup = this.lookup(contact, maxWaitMs)
      // one that ran out of time waiting on another's lookup gets what is cached
      if (maxWaitMs > 0) record = (await lookup) ?? this.resolver.cached(peerId)
      else if (record == null && last == null) return { ...base, presence: 'checking', source: 'none', addresses: [] }
    }
    // a lost contact that answered the lookup's dial is connected now
    const answered = this.connected(contact, peerId)
    if (answered != null) return answered
    if (record == null) return { ...base, presence: 'offline', source: 'none', addresses: [] }
    // lost: online only once a dial since has answered (which opens a connection, so this is rare);
    // a record from the cache that no dial has checked yet is not believed either
    const presence = !record.online && !this.lost.predates(contact.peerId, record)
      ? 'offline'
      : this.lost.has(contact.peerId) && !this.lost.answeredSince(contact.peerId) ? 'unreachable' : 'online'
    return { ...base, presence, source: 'dht', addresses: record.addresses }
  }

  /** Online, with its connections, if one is open. */
  private connected (contact: Contact, peerId: PeerId): ContactPresence | undefined {
    const connections = this.node.getConnections(peerId).filter(c => c.status === 'open').map(summarizeConnection)
    if (connections.length === 0) return undefined
    return { name: contact.name, peerId: contact.peerId, connections, presence: 'online', source: 'connection', addresses: this.resolver.cached(peerId)?.addresses ?? [] }
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
    const signal = AbortSignal.timeout(waited ? maxWaitMs : BACKGROUND_LOOKUP_MS)
    const lookup = this.resolver.lookup(peerIdFromString(contact.peerId), { fresh: true, signal })
      .catch(() => undefined)
      // a lost contact's answer to a dial is part of the check
      .then(async (record) => { await this.dialIfLost(contact.peerId, record); return record })
      .finally(() => {
        this.checkedAt.set(contact.peerId, Date.now())
        this.checking.delete(contact.peerId)
        if (!waited) this.onChecked(contact)
      })
    this.checking.set(contact.peerId, lookup)
    return await lookup
  }

  /**
   * For a lost contact whose record says online, or is a sign-off older than
   * the connection lost: does it answer a dial (where `connect` would dial)?
   */
  private async dialIfLost (peerId: string, record: PresenceRecordLike | undefined): Promise<void> {
    if (!this.lost.has(peerId) || record == null) return
    const id = peerIdFromString(peerId)
    const where = dialTargetFor(id, record, this.lost)
    if (where == null) return
    // its own deadline: the lookup's may be spent already (a lookup that ran out of time answers from the cache)
    const ok = await this.node.dial(where, { signal: AbortSignal.timeout(DIAL_LOST_MS) })
      .then((conn) => conn.remotePeer.equals(id), () => false)
    this.lost.noteAnswer(peerId, ok)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.resolver.invalidate(evt.detail)
    this.checkedAt.delete(evt.detail.toString()) // news: the next snapshot looks again
  }
}
