import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { fingerprint, userIdFromPublicKey } from '../identity/index.js'
import type { Contact } from '../contacts/index.js'
import { KeepAliveHold, negotiationAnswer, openProposedStream, type NetworkNode, type PresenceResolver } from '../network/index.js'
import { componentLogger } from '../util/log.js'
import { CONNECT_PROTOCOL, ConnectStatus, encodeRequest, encodeResponse, readRequest, readResponse } from './connect-protocol.js'
import { decide, validateServiceName, type Rule } from './permissions.js'
import { PROMPT_TIMEOUT_MS, type PromptQueue } from './prompts.js'
import type { CallerInfo, ServiceRegistry } from './service-registry.js'
import { STRANGER_WAITING_STREAMS, STRANGER_WAITING_STREAMS_IN_ALL, WaitingStreams } from './waiting-streams.js'
import { OpenSessions } from './open-sessions.js'
import { NO_ANSWER, ProtocolViolation, ServiceRefused, UserUnreachable } from './session-errors.js'
import { nameUser, type ContactLookup } from './target.js'
import { closeNow, keepRelayedSessionsOpen } from './relayed-sessions.js'
import { SPARE_IDLE_TIMEOUT_MS, SpareStreams } from './spare-streams.js'
import { connectionTo, type LostPeers } from './connection-to.js'
import { holdResponseForFirstBytes } from './held-response.js'
import { holdRequest, refuseAndClose, respond, resumeRequest } from './answer.js'
import { answerHangUpNotice, HANG_UP_NOTICE_TIMEOUT_MS, HANG_UP_PROTOCOL, sendHangUpNotice } from './hang-up-notice.js'

const log = componentLogger('session')

/**
 * How long a caller waits for an answer once the callee says it is asking its
 * user (status Asking): the callee's prompt timeout, after which it denies,
 * and room for a slow link. The connect deadline would cut a person off.
 */
const ASKING_WAIT_MS = PROMPT_TIMEOUT_MS + 30_000

/** Bounds the parsed peer ids kept (one per contact connected to); past it they are parsed afresh. */
const MAX_PARSED_PEER_IDS = 1024
/** Why a stranger is told to try again: their key has not reached the peer store yet (callerInfo). */
const UNKNOWN_KEY = 'it does not know your key yet'

export interface SessionComponents {
  node: NetworkNode
  resolver: PresenceResolver
  contacts: ContactLookup
  /** The user's permission rules, read on every request so edits apply at once. */
  rules: () => readonly Rule[]
  prompts: PromptQueue
  services: ServiceRegistry
  /** Peers whose connection was lost, as the daemon remembers them: a stale sign-off is dialled, not believed. */
  lostPeers?: LostPeers
}

export interface SessionInit {
  /** The whole connect (lookup, dial, service request) must finish in this time. */
  connectTimeoutMs?: number
  /** An incoming request frame must arrive within this time. */
  requestTimeoutMs?: number
  /** A local service handler must accept or reject within this time. */
  acceptTimeoutMs?: number
  /** Concurrent sessions per peer and direction (libp2p's default is 32 in, 64 out). */
  maxStreams?: number
  /** Strangers' connect streams that may wait for their request at once, on all connections (waiting-streams.ts). */
  strangersWaitingInAll?: number
}

export interface Target { peerId: PeerId, label: string, contact?: Contact }

/** A session whose request is sent (SessionManager.connectEarly). */
export interface EarlySession { stream: Stream, accepted: Promise<void>, onReply: () => void }

/**
 * connect(user, service) and the callee's side of it: resolve the user, reuse
 * or dial a connection authenticated to their key, ask for the service, read
 * the status; on the other side, decide the caller's permission, ask the user
 * when the rules say prompt, and hand the stream to the service.
 */
export class SessionManager {
  private readonly c: SessionComponents
  private readonly init: Required<SessionInit>
  private stopKeeping?: () => void
  private readonly spares: SpareStreams
  private readonly onConnectionClose = (evt: CustomEvent<Connection>): void => { this.spares.forget(evt.detail.id) }
  /** Contacts' parsed peer ids: parsing one (base58, key decoding) was a tenth of a warm connect's work in the caller's daemon. */
  private readonly peerIds = new Map<string, PeerId>()
  private readonly strangersWaiting: WaitingStreams
  private readonly open = new OpenSessions()
  private readonly keepAliveHold: KeepAliveHold

  constructor (components: SessionComponents, init: SessionInit = {}) {
    this.c = components
    this.keepAliveHold = new KeepAliveHold(components.node)
    // a caller's spare stream waits here for its request (spare-streams.ts);
    // the stream cap, not this timeout, bounds what a peer can hold open
    this.init = { connectTimeoutMs: 15_000, requestTimeoutMs: SPARE_IDLE_TIMEOUT_MS, acceptTimeoutMs: 10_000, maxStreams: 1024, strangersWaitingInAll: STRANGER_WAITING_STREAMS_IN_ALL, ...init }
    this.strangersWaiting = new WaitingStreams(STRANGER_WAITING_STREAMS, this.init.strangersWaitingInAll)
    this.spares = new SpareStreams(async (connection) =>
      await connection.newStream(CONNECT_PROTOCOL, { signal: AbortSignal.timeout(this.init.connectTimeoutMs), runOnLimitedConnection: true }))
  }

  async start (): Promise<void> {
    this.stopKeeping = keepRelayedSessionsOpen(this.c.node)
    this.c.node.addEventListener('connection:close', this.onConnectionClose)
    await this.c.node.handle(CONNECT_PROTOCOL, (stream, connection) => {
      this.onIncoming(stream, connection).catch((err) => { log.error('incoming stream failed: %e', err) })
    }, {
      maxInboundStreams: this.init.maxStreams,
      maxOutboundStreams: this.init.maxStreams,
      // a connection through a router's relay is "limited" (bytes and time,
      // per the router's caps); sessions are what it is for
      runOnLimitedConnection: true
    })
    await this.c.node.handle(HANG_UP_PROTOCOL, (stream, connection) => {
      const peer = connection.remotePeer
      answerHangUpNotice(stream, AbortSignal.timeout(HANG_UP_NOTICE_TIMEOUT_MS), async () => {
        this.c.lostPeers?.hangingUp(peer)
        await this.keepAliveHold.lift(peer)
      }).catch((err: Error) => { log('hang-up notice from %p failed: %s', peer, err.message); stream.abort(err) })
    }, { maxInboundStreams: 2, runOnLimitedConnection: true })
  }

  async stop (): Promise<void> {
    this.stopKeeping?.()
    this.c.node.removeEventListener('connection:close', this.onConnectionClose)
    this.spares.clear()
    await this.c.node.unhandle([CONNECT_PROTOCOL, HANG_UP_PROTOCOL])
    this.keepAliveHold.clear() // after: a notice handled meanwhile leaves no timer behind
  }

  /** A contact name, or a raw user ID (the original's CONNECTPUBKEY). */
  resolveTarget (user: string): Target {
    const named = nameUser(user, this.c.node.peerId, this.c.contacts)
    if (named.kind === 'id') {
      // a stranger is named by the end of the ID (its start is the same for every key of a type)
      return { peerId: named.id.peerId, label: named.contact?.name ?? `user …${named.id.text.slice(-10)}`, contact: named.contact }
    }
    return { peerId: this.parsedPeerId(named.contact.peerId), label: named.contact.name, contact: named.contact }
  }

  private parsedPeerId (text: string): PeerId {
    let id = this.peerIds.get(text)
    if (id == null) {
      if (this.peerIds.size >= MAX_PARSED_PEER_IDS) this.peerIds.clear()
      id = peerIdFromString(text)
      this.peerIds.set(text, id)
    }
    return id
  }

  /**
   * Closes every connection to `user`, ending their sessions; the next connect
   * looks their presence up again and dials afresh. Neither side dials the
   * other straight back: they are told first (hang-up-notice.ts), and
   * libp2p's own re-dial is held off here (KeepAliveHold). Returns how many closed.
   */
  async hangUp (user: string): Promise<number> {
    const target = this.resolveTarget(user)
    const open = this.c.node.getConnections(target.peerId)
    this.c.lostPeers?.hangingUp(target.peerId)
    const notice = open.find(c => c.status === 'open')
    await Promise.all([
      // neither failing keeps the connections from closing
      this.keepAliveHold.lift(target.peerId)
        .catch((err: Error) => { log('keeping libp2p from re-dialling %p failed: %s', target.peerId, err.message) }),
      notice == null
        ? undefined
        : sendHangUpNotice(notice, AbortSignal.timeout(HANG_UP_NOTICE_TIMEOUT_MS))
          .catch((err: Error) => { log('hang-up notice to %p failed: %s', target.peerId, err.message) })
    ])
    // relayed ones too, though sessions run on them (keepRelayedSessionsOpen)
    await Promise.all(open.map(async (conn) => { await closeNow(conn).catch((err: Error) => { conn.abort(err) }) }))
    await this.c.node.hangUp(target.peerId)
    return open.length
  }

  /**
   * Ends the sessions `peerId` has open to our services (a contact removed:
   * what they opened as one does not outlive it); answers how many.
   */
  endSessionsFrom (peerId: string): number {
    return this.open.endAll(peerId, 'the caller is no longer a contact')
  }

  /**
   * Ends the open sessions the rules, as they are now, deny (after a rule was
   * added or removed); answers how many. One a rule would now ask about is
   * left open: its caller was let in, and nobody can be asked mid-session.
   */
  endSessionsNowDenied (): number {
    const rules = this.c.rules()
    return this.open.endWhere((peerId, service) =>
      decide(rules, { contactName: this.c.contacts.findByPeerId(peerId)?.name }, service).action === 'deny', 'a rule now denies this session')
  }

  /**
   * Opens an authenticated stream to `user`'s `service`; resolves once the
   * remote said OK. `onAsking`: called if the remote is asking its user first.
   */
  async connect (user: string, service: string, options: { signal?: AbortSignal, onAsking?: () => void } = {}): Promise<Stream> {
    const { stream, accepted, onReply } = await this.connectEarly(user, service, options)
    await accepted
    onReply() // the caller reads from here on; nothing tells when its first reply comes
    return stream
  }

  /**
   * Like connect, but resolves as soon as the service request is sent: the
   * caller may send its first bytes at once, in the same round trip as the
   * request (the remote holds them until it has decided), and must not read
   * from the stream before `accepted` resolves. `accepted` rejects with
   * ServiceRefused or UserUnreachable, and the stream is aborted then. A
   * forward saves one round trip per connection this way; the bytes go only
   * to the authenticated peer, which drops them if it refuses.
   *
   * `firstBytes`: the application's first bytes (firstBytesIfSent), sent in
   * the same flight as the request once they are in; the stream's other
   * bytes are the caller's to send.
   *
   * `onAsking`: called if the remote is asking its user first (a prompt);
   * the answer may then take up to ASKING_WAIT_MS.
   *
   * `onReply`: call it when the remote's first bytes have arrived (or the
   * session ended). The next connect's spare stream is opened then, so that
   * its negotiation takes neither daemon's time from this session's first
   * round trip (docs/BENCHMARKS.md, warm connect).
   */
  async connectEarly (user: string, service: string, options: { signal?: AbortSignal, firstBytes?: Promise<Uint8Array | undefined>, onAsking?: () => void } = {}): Promise<EarlySession> {
    validateServiceName(service)
    const target = this.resolveTarget(user)
    // AbortSignal.any only when there are two: timeout and any() took 17 of the
    // 140 µs a warm connect spent before its request (traced)
    const timeout = AbortSignal.timeout(this.init.connectTimeoutMs)
    const signal = options.signal == null ? timeout : AbortSignal.any([timeout, options.signal])
    const started = performance.now()
    const connection = await connectionTo(this.c.node, this.c.resolver, target, signal, this.c.lostPeers)
    // at most one loop turn; before the stream, so a proposal leaves with them
    const first = await options.firstBytes
    let stream = await this.spares.take(connection)
    // without a spare, the protocol is proposed in the request's own flight
    let negotiation: Uint8Array | undefined
    if (stream == null) {
      try {
        stream = await openProposedStream(connection, CONNECT_PROTOCOL, this.init.maxStreams, signal)
        if (stream != null) negotiation = negotiationAnswer(CONNECT_PROTOCOL)
        else stream = await connection.newStream(CONNECT_PROTOCOL, { signal, runOnLimitedConnection: true })
      } catch (err) {
        throw new UserUnreachable(target.label, `could not open a stream (${(err as Error).message})`)
      }
    }
    log('stream to %s open after %d ms%s', target.label, Math.round(performance.now() - started), negotiation != null ? ', protocol proposed' : '')
    // one yamux frame for both: the callee parses, queues and dispatches once
    const request = encodeRequest(service)
    stream.send(first != null && first.byteLength > 0 ? Buffer.concat([request, first]) : request)
    const whileAsking = (): AbortSignal => {
      log('%s is asking its user about %s', target.label, service)
      try { options.onAsking?.() } catch (err) { log('onAsking failed: %e', err) }
      const wait = AbortSignal.timeout(ASKING_WAIT_MS)
      return options.signal == null ? wait : AbortSignal.any([wait, options.signal])
    }
    const accepted = readResponse(stream, signal, negotiation, whileAsking).then(({ response }) => {
      if (response.status !== ConnectStatus.Ok) throw new ServiceRefused(target.label, service, response.status, response.message)
    }).catch((err: Error) => {
      stream.abort(err)
      if (err instanceof ServiceRefused || err instanceof ProtocolViolation) throw err
      throw new UserUnreachable(target.label, `no answer to the service request (${err.message})`)
    })
    accepted.catch(() => {}) // the caller may not have awaited it yet; it is theirs to handle
    let replied = false
    const onReply = (): void => {
      if (replied) return
      replied = true
      setImmediate(() => { this.spares.refill(connection) })
    }
    return { stream, accepted, onReply }
  }

  private async onIncoming (raw: Stream, connection: Connection): Promise<void> {
    let service: string
    let stream: Stream
    let earlyBytes: boolean
    // contacts are bounded by the stream cap alone; strangers by this too
    const counted = this.c.contacts.findByPeerId(connection.remotePeer.toString()) == null
    if (counted && !this.strangersWaiting.enter(connection.id)) {
      log('%p: %d streams already wait for a request (%d of all strangers\'); refused another', connection.remotePeer, this.strangersWaiting.count(connection.id), this.strangersWaiting.count())
      if (respond(raw, ConnectStatus.Busy, 'too many streams wait for a request')) await raw.close().catch(() => {})
      raw.abort(new Error('too many waiting streams'))
      return
    }
    try {
      ({ service, stream, earlyBytes } = await readRequest(raw, AbortSignal.timeout(this.init.requestTimeoutMs)))
    } catch (err) {
      const status = err instanceof ProtocolViolation ? err.status : ConnectStatus.BadRequest
      log('bad request from %p: %e', connection.remotePeer, err)
      if (respond(raw, status, (err as Error).message)) await raw.close().catch(() => {})
      raw.abort(err as Error)
      return
    } finally {
      if (counted) this.strangersWaiting.leave(connection.id)
    }
    holdRequest(stream)
    // who the caller is now, not when the stream opened: a spare waits up to
    // SPARE_IDLE_TIMEOUT_MS, and the contact may be removed or renamed meanwhile
    const refuse = (status: ConnectStatus, message = ''): void => { refuseAndClose(stream, status, message) }
    let caller = await this.callerInfo(connection)
    if (caller == null) { refuse(ConnectStatus.Busy, UNKNOWN_KEY); return }
    let handler = this.c.services.get(service)
    const decision = decide(this.c.rules(), { contactName: caller.contactName }, service)
    log('%s asks for %s: %s', caller.contactName ?? caller.peerId, service, decision.action)
    // A refusal never says whether the service exists, so strangers learn
    // nothing; a contact asking for one not offered now is told so (nobody
    // would be asked: "bob is not sharing", not "bob did not allow you")
    if (decision.action === 'deny') { refuse(ConnectStatus.NotAllowed); return }
    if (decision.action === 'prompt') {
      if (handler == null) { refuse(caller.contactName != null ? ConnectStatus.NoSuchService : ConnectStatus.NotAllowed); return }
      // the caller then waits as long as a person may take
      if (!respond(stream, ConnectStatus.Asking)) return
      const closed = new AbortController()
      const onClose = (): void => closed.abort()
      stream.addEventListener('close', onClose)
      const answer = await this.c.prompts.ask({ service, caller }, closed.signal)
      stream.removeEventListener('close', onClose)
      if (answer !== 'allow') { refuse(ConnectStatus.NotAllowed, answer === 'unanswered' ? NO_ANSWER : ''); return }
      // the person may have taken a minute: the yes was for the caller as they
      // were asked about, so a contact removed or renamed meanwhile is refused
      // (a stranger added as a contact, as `requests allow --add-contact`
      // does, is not), and so is one a rule added meanwhile denies; a service
      // removed or re-pointed meanwhile is taken as it is now
      const asked = caller
      caller = await this.callerInfo(connection)
      if (caller == null) { refuse(ConnectStatus.Busy, UNKNOWN_KEY); return }
      const lostStanding = asked.contactName != null && caller.contactName !== asked.contactName
      if (lostStanding || decide(this.c.rules(), { contactName: caller.contactName }, service).action === 'deny') { refuse(ConnectStatus.NotAllowed); return }
      handler = this.c.services.get(service)
    }
    if (handler == null) { refuse(ConnectStatus.NoSuchService); return }
    await this.dispatch(stream, service, caller, handler, earlyBytes)
  }

  /** `earlyBytes`: the caller sent bytes with its request; its OK may wait for the service's first bytes. */
  private async dispatch (stream: Stream, service: string, caller: CallerInfo, handler: NonNullable<ReturnType<ServiceRegistry['get']>>, earlyBytes: boolean): Promise<void> {
    let answered = false
    const timer = setTimeout(() => {
      if (!answered) { answered = true; refuseAndClose(stream, ConnectStatus.ServiceUnreachable, 'the service did not answer') }
    }, this.init.acceptTimeoutMs)
    timer.unref()
    try {
      await handler({
        service,
        caller,
        accept: async () => {
          if (answered) throw new Error('request already answered')
          answered = true
          clearTimeout(timer)
          resumeRequest(stream)
          this.open.add(caller.peerId, stream, service)
          if (earlyBytes) holdResponseForFirstBytes(stream, encodeResponse(ConnectStatus.Ok))
          else stream.send(encodeResponse(ConnectStatus.Ok))
          return stream
        },
        reject: (status, message) => {
          if (answered) return
          answered = true
          clearTimeout(timer)
          refuseAndClose(stream, status, message)
        }
      })
    } catch (err) {
      log.error('service %s failed: %e', service, err)
      if (!answered) {
        answered = true
        clearTimeout(timer)
        refuseAndClose(stream, ConnectStatus.ServiceUnreachable)
      } else {
        stream.abort(err as Error)
      }
    }
  }

  /**
   * Who is calling, or undefined for a stranger whose key is not known: the
   * user is shown and stores a stranger by user ID, which is their key. TLS
   * over TCP gives it (network/peer-certificate.ts); over a relay, libp2p's
   * TLS gives an RSA caller a peer ID without it, and only identify, once it
   * has run, has put the key in the peer store.
   */
  private async callerInfo (connection: Connection): Promise<CallerInfo | undefined> {
    const peerId = connection.remotePeer
    const contact = this.c.contacts.findByPeerId(peerId.toString())
    if (contact != null) return { peerId: peerId.toString(), userId: contact.userId, fingerprint: contact.fingerprint, contactName: contact.name }
    const publicKey = peerId.publicKey ?? await this.c.node.peerStore.get(peerId).then(p => p.id.publicKey, () => undefined)
    if (publicKey == null) return undefined
    return { peerId: peerId.toString(), userId: userIdFromPublicKey(publicKey).text, fingerprint: fingerprint(publicKey), contactName: undefined }
  }
}
