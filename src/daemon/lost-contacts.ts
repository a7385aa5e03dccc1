import type { IdentifyResult, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { NetworkNode, PresenceRecord } from '../network/index.js'
import type { LostPeers } from '../session/index.js'

/** Connections closed this soon after a hang-up were closed here, not lost. */
const HANGUP_GRACE_MS = 5000
/** Addresses kept per peer, from what it said in identify. */
const MAX_ADDRESSES = 8

/** A run of connections to one peer: from the first opening to the last closing. */
interface Run {
  /** When it began, by our clock. */
  since: number
  /** The newest presence record's seq known when it began. */
  seqBefore?: number
  /** The addresses the peer said it listens on (identify), with /p2p/ID. */
  addresses: Multiaddr[]
}

/**
 * The presence tracker's memory of contacts whose connection was lost —
 * closed, but not by a hang-up on either side: a daemon killed, crashed, or its link
 * gone. Kept for every connected peer (bounded by the connection limit) and
 * for lost contacts until they connect again.
 *
 * libp2p fires peer:connect inside the upgrade, before the dial that opened
 * the connection returns: so a dial's answer counts only while the contact
 * is still lost (`noteAnswer`), and a disconnect forgets the last answer.
 */
export class LostContacts implements LostPeers {
  private readonly node: NetworkNode
  private readonly isContact: (peerId: string) => boolean
  private readonly newestSeq: (peerId: PeerId) => number | undefined
  private readonly runs = new Map<string, Run>()
  private readonly lost = new Set<string>()
  /** The latest dial of a lost contact: whether it answered. */
  private readonly answered = new Map<string, boolean>()
  private readonly hungUpAt = new Map<string, number>()

  /** `newestSeq`: the newest record of a peer known now (the resolver's cache). */
  constructor (node: NetworkNode, isContact: (peerId: string) => boolean, newestSeq: (peerId: PeerId) => number | undefined) {
    this.node = node
    this.isContact = isContact
    this.newestSeq = newestSeq
  }

  start (): void {
    this.node.addEventListener('peer:connect', this.onConnect)
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.node.addEventListener('peer:identify', this.onIdentify)
    // connections opened before (the daemon starts its node first)
    for (const c of this.node.getConnections()) {
      const id = c.remotePeer.toString()
      const run = this.runs.get(id)
      if (run == null) this.runs.set(id, { since: c.timeline.open, seqBefore: this.newestSeq(c.remotePeer), addresses: [] })
      else run.since = Math.min(run.since, c.timeline.open)
    }
  }

  stop (): void {
    this.node.removeEventListener('peer:connect', this.onConnect)
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.node.removeEventListener('peer:identify', this.onIdentify)
  }

  /** A hang-up on `peerId`, ours or theirs (its notice): the connections about to close are not lost. */
  hangingUp (peerId: PeerId): void {
    const now = Date.now()
    // a hang-up on a peer with no connection leaves no disconnect to clear it
    for (const [id, at] of this.hungUpAt) if (now - at >= HANGUP_GRACE_MS) this.hungUpAt.delete(id)
    this.hungUpAt.set(peerId.toString(), now)
  }

  has (peerId: string): boolean {
    return this.lost.has(peerId)
  }

  /**
   * A lost contact's record from before the run of connections that was
   * lost: they came back after it, so it says nothing of now. Known without
   * clocks when it is no newer than the newest record seen before the run
   * began; otherwise their clock (seq is their Date.now()) against ours: a
   * skew larger than the run's age makes a real sign-off look older, and it
   * is then dialled and shown `unreachable` instead of `offline`.
   */
  predates (peerId: string, record: PresenceRecord): boolean {
    const run = this.runs.get(peerId)
    if (!this.lost.has(peerId) || run == null) return false
    return (run.seqBefore != null && record.seq <= run.seqBefore) || record.seq < run.since
  }

  /** What a lost contact said it listens on, the last we heard, with /p2p/ID (empty if it never said). */
  lastAddresses (peerId: string): Multiaddr[] {
    return this.runs.get(peerId)?.addresses ?? []
  }

  /** A dial of a lost contact answered or not; ignored once it is connected again. */
  noteAnswer (peerId: string, ok: boolean): void {
    if (this.lost.has(peerId)) this.answered.set(peerId, ok)
  }

  /** A dial since the loss has answered. */
  answeredSince (peerId: string): boolean {
    return this.answered.get(peerId) === true
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    this.runs.set(id, { since: Date.now(), seqBefore: this.newestSeq(evt.detail), addresses: [] })
    this.lost.delete(id)
    this.answered.delete(id)
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const id = evt.detail.peerId.toString()
    const run = this.runs.get(id)
    if (run == null) return
    run.addresses = evt.detail.listenAddrs.slice(0, MAX_ADDRESSES)
      .map(a => a.getComponents().some(c => c.name === 'p2p') ? a : a.encapsulate(`/p2p/${id}`))
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    const hungUp = this.hungUpAt.get(id)
    this.hungUpAt.delete(id)
    this.answered.delete(id)
    if ((hungUp != null && Date.now() - hungUp < HANGUP_GRACE_MS) || !this.isContact(id)) {
      this.runs.delete(id)
      this.lost.delete(id)
      return
    }
    this.lost.add(id)
  }
}
