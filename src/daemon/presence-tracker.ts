import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Contact } from '../contacts/index.js'
import type { NetworkNode, PresenceResolver } from '../network/index.js'
import { summarizeConnection, type ConnectionSummary } from './connection-info.js'

/**
 * `checking`: no answer yet from a lookup started in the background (a
 * snapshot that does not wait). `unreachable`: the connection to them was
 * lost, their record still says online, and a dial to it failed — a daemon
 * that stopped without signing off (killed, crashed, its machine gone).
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
/** How long a lost contact has to answer a dial. */
const DIAL_LOST_MS = 5000
/** Connections closed this soon after a hang-up were closed here, not lost. */
const HANGUP_GRACE_MS = 5000

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
 * it is treated the same way, dialled at the addresses last known. Contacts
 * never connected are not dialled: a status must not open connections to
 * everyone.
 */
export class PresenceTracker {
  private readonly node: NetworkNode
  private readonly resolver: PresenceResolver
  private readonly checkedAt = new Map<string, number>()
  private readonly checking = new Map<string, Promise<PresenceRecordLike | undefined>>()
  private readonly onChecked: (contact: Contact) => void
  /**
   * Contacts whose last connection closed without our doing. Not compared
   * with their record's sequence number: the record cached when it closed
   * may be older than the one they had then (a connection they opened needs
   * no lookup here), so only a new connection clears it.
   */
  private readonly lost = new Set<string>()
  /** When each contact's current (or, once lost, last) run of connections began, by our clock. */
  private readonly connectedSince = new Map<string, number>()
  /** The latest dial of a lost contact: whether it answered. */
  private readonly answered = new Map<string, boolean>()
  private readonly hungUpAt = new Map<string, number>()
  private readonly isContact: (peerId: string) => boolean

  /** `onChecked`: a lookup that a snapshot did not wait for has finished (the daemon tells the web UI to reload). */
  constructor (components: { node: NetworkNode, resolver: PresenceResolver, isContact: (peerId: string) => boolean }, onChecked: (contact: Contact) => void = () => {}) {
    this.node = components.node
    this.resolver = components.resolver
    this.isContact = components.isContact
    this.onChecked = onChecked
  }

  start (): void {
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.node.addEventListener('peer:connect', this.onConnect)
  }

  stop (): void {
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.node.removeEventListener('peer:connect', this.onConnect)
  }

  /** The user is hanging up on `peerId`: the connections about to close are not lost. */
  hangingUp (peerId: PeerId): void {
    this.hungUpAt.set(peerId.toString(), Date.now())
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
      if (maxWaitMs > 0) record = await lookup
      else if (record == null && last == null) return { ...base, presence: 'checking', source: 'none', addresses: [] }
    }
    // a lost contact that answered the lookup's dial is connected now
    const answered = this.connected(contact, peerId)
    if (answered != null) return answered
    if (record == null) return { ...base, presence: 'offline', source: 'none', addresses: [] }
    // lost: online only once a dial since has answered (which opens a connection, so this is rare);
    // a record from the cache that no dial has checked yet is not believed either
    const presence = !record.online && !this.predatesLoss(contact.peerId, record)
      ? 'offline'
      : this.lost.has(contact.peerId) && this.answered.get(contact.peerId) !== true ? 'unreachable' : 'online'
    return { ...base, presence, source: 'dht', addresses: record.addresses }
  }

  /** Online, with its connections, if one is open. */
  private connected (contact: Contact, peerId: PeerId): ContactPresence | undefined {
    const connections = this.node.getConnections(peerId).filter(c => c.status === 'open').map(summarizeConnection)
    if (connections.length === 0) return undefined
    return { name: contact.name, peerId: contact.peerId, connections, presence: 'online', source: 'connection', addresses: this.resolver.cached(peerId)?.addresses ?? [] }
  }

  /**
   * A lost contact's record published before the connection we lost had
   * opened. Their clock against ours: a skew larger than the connection's
   * age makes a real sign-off look older, and it shows as `unreachable`
   * instead of `offline` — not online either way.
   */
  private predatesLoss (peerId: string, record: NonNullable<PresenceRecordLike>): boolean {
    const since = this.connectedSince.get(peerId)
    return this.lost.has(peerId) && since != null && record.seq < since
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
      // a lost contact's answer to a dial is part of the check (`answered`)
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
   * For a lost contact whose record says online, or is older than the
   * connection lost: does it answer a dial? Noted in `answered`. An old
   * offline record has no addresses: the peer store's, last known, are dialled.
   */
  private async dialIfLost (peerId: string, record: PresenceRecordLike | undefined): Promise<void> {
    if (!this.lost.has(peerId) || record == null) return
    const id = peerIdFromString(peerId)
    let target: PeerId | Multiaddr[]
    if (record.online && record.addresses.length > 0) target = record.addresses.map(a => multiaddr(`${a}/p2p/${peerId}`))
    else if (!record.online && this.predatesLoss(peerId, record)) target = id
    else return
    // its own deadline: the lookup's may be spent already (a lookup that ran out of time answers from the cache)
    const ok = await this.node.dial(target, { signal: AbortSignal.timeout(DIAL_LOST_MS) })
      .then((conn) => conn.remotePeer.equals(id), () => false)
    this.answered.set(peerId, ok)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.resolver.invalidate(evt.detail)
    const id = evt.detail.toString()
    this.checkedAt.delete(id) // news: the next snapshot looks again
    const hungUp = this.hungUpAt.get(id)
    this.hungUpAt.delete(id)
    if ((hungUp != null && Date.now() - hungUp < HANGUP_GRACE_MS) || !this.isContact(id)) {
      this.connectedSince.delete(id)
      return
    }
    this.lost.add(id)
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    if (this.isContact(id)) this.connectedSince.set(id, Date.now())
    this.lost.delete(id)
    this.answered.delete(id)
  }
}
