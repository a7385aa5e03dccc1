import { lpStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ComponentLogger, Connection, IdentifyResult, Libp2pEvents, Logger, PeerId, Startable, Stream, TypedEventTarget } from '@libp2p/interface'
import { ipOf, tcpPort } from './addresses.js'
import { printable } from '../util/printable.js'
import { describeWireValue } from '../util/wire-value.js'
import type { AddressManager, ConnectionManager, Registrar, TransportManager } from '@libp2p/interface-internal'

/**
 * Is this daemon reachable from outside? libp2p's AutoNAT answers only after
 * four different peers dialled back, which a network of two routers never
 * gives, so cspace asks its routers directly: "dial me back". A router dials
 * the asker's listen ports at the IP it sees the asker connect from (never
 * any other IP: a router must not be made to dial third parties), with a
 * fresh TLS connection that must prove the asker's key. A port that answers
 * is confirmed and advertised; none answering means NAT or a firewall, and
 * the daemon takes relay slots so that it can still be reached.
 */
export const REACHABILITY_PROTOCOL = '/cspace/reachability/1.0.0'
const VERSION = 1
/** One message each way; a request names at most MAX_PORTS ports. */
export const MAX_REACHABILITY_MESSAGE = 1024
const MAX_PORTS = 8
const DIAL_BACK_TIMEOUT_MS = 5_000
const ANSWER_TIMEOUT_MS = 15_000
/** Reachability changes with the network: ask again this often. */
const REPROBE_INTERVAL_MS = 10 * 60_000

export type Reachability = 'unknown' | 'public' | 'private'

/** v1 request: the TCP ports the asker listens on. */
export interface ReachabilityRequest { v: 1, ports: number[] }
/** v1 answer: the addresses at which the router reached the asker (empty: none), or why it would not try. */
export interface ReachabilityAnswer { v: 1, reachable: string[], error?: string }

export interface ReachabilityComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  transportManager: TransportManager
  addressManager: AddressManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface ReachabilityInit {
  /** Routers answer probes; users ask them. */
  router: boolean
  /** Called after each answer, e.g. to serve the DHT only when reachable. */
  onChange?: (reachability: Reachability) => void
  /** Relay slots to take once found unreachable (0: never). */
  relaySlots: number
  /**
   * The routers this node asks: its bootstrap peers. Any peer may claim the
   * protocol, and a liar could keep a node behind a NAT from taking relay
   * slots. Empty: any router (a network with no configured bootstrap).
   */
  trustedRouters?: string[]
}

export class ReachabilityService implements Startable {
  reachability: Reachability = 'unknown'
  /** The addresses a router reached us at, in the last probe. */
  confirmed: string[] = []
  /** Why the last probe failed, if it did (a router's answer that did not check out, say). */
  lastProbeError?: string
  private readonly log: Logger
  private relaying = false
  private lastProbe = 0
  private probing = false
  private started = false
  /** The last router identified: asked again every REPROBE_INTERVAL_MS while connected. */
  private router?: Connection
  /** Where a punch from our listening port would appear to others (NAT IP, our port). */
  private observed?: Multiaddr
  private reprobeTimer?: ReturnType<typeof setInterval>

  constructor (private readonly components: ReachabilityComponents, private readonly init: ReachabilityInit) {
    this.log = components.logger.forComponent('cspace:network:reachability')
  }

  /**
   * When private: the address a router saw us at, with our listening port,
   * for hole punching only. Offered to DCUtR alone (punch-address.ts), which
   * sends it to a peer reached through a router so that both dial each other
   * at once; once reachable there is nothing to punch through.
   */
  get punchable (): string | undefined {
    return this.reachability === 'private' ? this.observed?.toString() : undefined
  }

  async start (): Promise<void> {
    this.started = true
    if (this.init.router) {
      await this.components.registrar.handle(REACHABILITY_PROTOCOL, (stream, connection) => {
        this.answerProbe(stream, connection).catch((err: Error) => { this.log('probe from %p failed: %s', connection.remotePeer, err.message); stream.abort(err) })
      }, { maxInboundStreams: 4 })
    } else {
      this.components.events.addEventListener('peer:identify', this.onIdentify)
      this.reprobeTimer = setInterval(() => {
        if (this.router?.status === 'open') this.probeVia(this.router)
      }, REPROBE_INTERVAL_MS)
      this.reprobeTimer.unref()
    }
  }

  async stop (): Promise<void> {
    this.started = false
    clearInterval(this.reprobeTimer)
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    if (this.init.router) await this.components.registrar.unhandle(REACHABILITY_PROTOCOL)
  }

  /** A router was identified: ask it, unless a probe is running or recent. */
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const result = evt.detail
    if (!result.protocols.includes(REACHABILITY_PROTOCOL)) return
    const trusted = this.init.trustedRouters ?? []
    if (trusted.length > 0 && !trusted.includes(result.peerId.toString())) return
    this.router = result.connection
    // the IP a router saw us come from, with our listening port: the hole a
    // NAT that keeps ports opens when a punch leaves from that port
    const ip = result.observedAddr != null ? ipOf(result.observedAddr) : undefined
    const port = this.components.transportManager.getAddrs().map(tcpPort).find(p => p != null)
    if (ip != null && port != null) this.observed = multiaddr(`/${ip.name}/${ip.value}/tcp/${port}`)
    if (this.reachability !== 'unknown' && Date.now() - this.lastProbe < REPROBE_INTERVAL_MS) return
    this.probeVia(result.connection)
  }

  /** The router asked (the last one identified that this node trusts). */
  get routerPeer (): PeerId | undefined {
    return this.router?.remotePeer
  }

  private probeVia (connection: Connection): void {
    if (this.probing) return
    this.probing = true
    this.probe(connection)
      .then(() => { this.lastProbeError = undefined })
      .catch((err: Error) => { this.lastProbeError = err.message; this.log('probe via %p failed: %s', connection.remotePeer, err.message) })
      .finally(() => { this.probing = false })
  }

  private async probe (connection: Connection): Promise<void> {
    const ports = [...new Set(this.components.transportManager.getAddrs()
      .map(tcpPort).filter((p): p is number => p != null))].slice(0, MAX_PORTS)
    const signal = AbortSignal.timeout(ANSWER_TIMEOUT_MS)
    const stream = await connection.newStream(REACHABILITY_PROTOCOL, { signal })
    const lp = lpStream(stream, { maxDataLength: MAX_REACHABILITY_MESSAGE })
    await lp.write(encode({ v: VERSION, ports } satisfies ReachabilityRequest), { signal })
    const answer = parseAnswer(await lp.read({ signal }))
    await stream.close().catch(() => {})
    if (!this.started) return
    this.lastProbe = Date.now()
    if (answer.error != null) throw new Error(`the router refused: ${answer.error}`)
    // a router vouches only for what it dialled: our own ports, at an IP address
    const unasked = answer.reachable.find(a => !ports.includes(tcpPort(multiaddr(a)) ?? -1) || !isPlainTcp(multiaddr(a)))
    if (unasked != null) throw new Error(`the router vouched for an address it was not asked about (${unasked.slice(0, 100)}); ignored`)
    // an address that no longer answers (the network changed) is no longer vouched for
    for (const a of this.confirmed.filter(a => !answer.reachable.includes(a))) this.components.addressManager.removeObservedAddr(multiaddr(a))
    this.confirmed = answer.reachable
    this.reachability = answer.reachable.length > 0 ? 'public' : 'private'
    this.log('router %p says %s %o', connection.remotePeer, this.reachability, answer.reachable)
    this.init.onChange?.(this.reachability)
    for (const a of answer.reachable) {
      // advertised from now on, as if AutoNAT had confirmed it
      const ma = multiaddr(a)
      this.components.addressManager.addObservedAddr(ma)
      this.components.addressManager.confirmObservedAddr(ma)
    }
    if (this.reachability === 'private' && !this.relaying && this.init.relaySlots > 0) {
      this.relaying = true
      // each '/p2p-circuit' listener is one slot on a router libp2p knows
      await this.components.transportManager.listen(Array.from({ length: this.init.relaySlots }, () => multiaddr('/p2p-circuit')))
    }
  }

  /** Router side: dial the asker back at its own IP, on the ports it names. */
  private async answerProbe (stream: Stream, connection: Connection): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_REACHABILITY_MESSAGE })
    const signal = AbortSignal.timeout(ANSWER_TIMEOUT_MS)
    let answer: ReachabilityAnswer
    const ip = ipOf(connection.remoteAddr)
    if (connection.limits != null || ip == null) {
      answer = { v: VERSION, reachable: [], error: 'ask over a direct connection' }
    } else {
      let request: ReachabilityRequest | undefined
      try {
        request = parseRequest(await lp.read({ signal }))
      } catch (err) {
        answer = { v: VERSION, reachable: [], error: (err as Error).message }
      }
      if (request != null) {
        const candidates = request.ports.map(port => multiaddr(`/${ip.name}/${ip.value}/tcp/${port}`))
        const reached = await Promise.all(candidates.map(async (ma) => await this.dialBack(ma, connection.remotePeer) ? ma.toString() : undefined))
        answer = { v: VERSION, reachable: reached.filter((a): a is string => a != null) }
      }
    }
    await lp.write(encode(answer!), { signal })
    await stream.close({ signal })
  }

  /** True if a new connection to `ma` reached exactly `peer` (TLS proves the key). */
  private async dialBack (ma: Multiaddr, peer: PeerId): Promise<boolean> {
    try {
      const conn = await this.components.connectionManager.openConnection(ma.encapsulate(`/p2p/${peer.toString()}`), {
        force: true,
        signal: AbortSignal.timeout(DIAL_BACK_TIMEOUT_MS)
      })
      const ok = conn.remotePeer.equals(peer)
      await conn.close().catch(() => {})
      return ok
    } catch {
      return false
    }
  }
}

/** `/ip4|ip6/ADDRESS/tcp/PORT` and nothing more: what a dial-back reaches. */
function isPlainTcp (ma: Multiaddr): boolean {
  const names = ma.getComponents().map(c => c.name)
  return names.length === 2 && (names[0] === 'ip4' || names[0] === 'ip6') && names[1] === 'tcp'
}

/** libp2p service factory for `services: { reachability: reachability(init) }`. */
export function reachability (init: ReachabilityInit): (components: ReachabilityComponents) => ReachabilityService {
  return (components) => new ReachabilityService(components, init)
}

function encode (message: ReachabilityRequest | ReachabilityAnswer): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message))
}

function decodeObject (bytes: { subarray: () => Uint8Array }): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray()))
  } catch {
    throw new Error('not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
  const o = value as Record<string, unknown>
  if (o.v !== VERSION) throw new Error(`unsupported version ${describeWireValue(o.v)}`)
  return o
}

/** Validates a request on entry: version, at most MAX_PORTS ports, each 1..65535. */
export function parseRequest (bytes: { subarray: () => Uint8Array }): ReachabilityRequest {
  const o = decodeObject(bytes)
  const ports = o.ports
  if (!Array.isArray(ports) || ports.length > MAX_PORTS || !ports.every(p => Number.isInteger(p) && p > 0 && p < 65536)) {
    throw new Error(`"ports" must be a list of at most ${MAX_PORTS} port numbers`)
  }
  return { v: VERSION, ports: [...new Set(ports as number[])] }
}

/** Validates an answer on entry: version, addresses that parse. */
export function parseAnswer (bytes: { subarray: () => Uint8Array }): ReachabilityAnswer {
  const o = decodeObject(bytes)
  const reachable = o.reachable
  if (!Array.isArray(reachable) || reachable.length > MAX_PORTS || !reachable.every(a => typeof a === 'string')) throw new Error('"reachable" must be a list of addresses')
  for (const a of reachable as string[]) multiaddr(a)
  const error = typeof o.error === 'string' ? printable(o.error.slice(0, 200)) : undefined
  return { v: VERSION, reachable: reachable as string[], ...(error != null ? { error } : {}) }
}
