import { createLibp2p, type Libp2p } from 'libp2p'
import { dcutr } from '@libp2p/dcutr'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { yamux } from '@libp2p/yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, PING_PROTOCOL, type Ping } from '@libp2p/ping'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayTransport, RELAY_V2_HOP_CODEC, RELAY_V2_STOP_CODEC, type CircuitRelayService, type CircuitRelayTransportComponents } from '@libp2p/circuit-relay-v2'
import { withPacedRandomWalk } from './paced-random-walk.js'
import { closeStaleConnections } from './stale-connections.js'
import { watchRelaySlots } from './relay-slot-watch.js'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper, type KadDHT, type KadDHTInit } from '@libp2p/kad-dht'
import type { Datastore } from 'interface-datastore'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import { presenceSelector, presenceValidator } from './presence-validator.js'
import { PRESENCE_NAMESPACE } from './presence-record.js'
import { InvalidAddress } from './errors.js'
import { punchableTcp } from './punchable-tcp.js'
import { secureTcp } from './secure-tcp.js'
import { DhtDatastore } from './dht-datastore.js'
import { TlsIdentity } from './native-tls.js'
import { streamTls } from './stream-tls.js'
import { reachability, type ReachabilityService } from './reachability.js'
import { withPunchAddress } from './punch-address.js'
import { RelayMeter } from './relay-meter.js'
import { libp2pLogger } from '../util/log.js'
import { sendWindowUpdatesAtHalfWindow } from './yamux-window-updates.js'
import { MAX_STREAM_WRITE_BUFFER, withYamuxLimits } from './yamux-limits.js'
import { withStreamsInTurn } from './yamux-streams-in-turn.js'
import { trustConnectedContacts } from './connected-contacts.js'
import { skipRedundantMerges } from './redundant-merges.js'
import { boundPeerStore } from './peer-store-bound.js'
import { proposeDhtStreams } from './proposed-stream.js'
import { guardMessages, guardProtocolMessages, type MessageLimit, type StreamLimit } from './message-size-guard.js'
import { guardIdentifyRecords } from './identify-record-guard.js'
import { DEFAULT_RELAY_LIMITS, RelayReservationGate, relayServer, type RelayLimits } from './relay.js'

/** cspace's DHT is its own network: a private protocol id keeps IPFS peers out. */
export const DHT_PROTOCOL = '/cspace/kad/1.0.0'
/**
 * What a peer may send on the libp2p protocols that read with no limit of
 * their own (message-size-guard.ts). A DHT message holds at most a presence
 * record (4 KiB) or 20 peers with their addresses; a relay's first message a
 * peer and a reservation; a ping stream one 32-byte ping (libp2p opens a
 * stream per ping; a few hundred kept on one stream still pass).
 */
export const MESSAGE_LIMITS: Record<string, StreamLimit> = {
  [DHT_PROTOCOL]: { maxMessageBytes: 64 * 1024, firstMessageOnly: false },
  [RELAY_V2_HOP_CODEC]: { maxMessageBytes: 16 * 1024, firstMessageOnly: true },
  [RELAY_V2_STOP_CODEC]: { maxMessageBytes: 16 * 1024, firstMessageOnly: true },
  [PING_PROTOCOL]: { maxStreamBytes: 16 * 1024 }
}
/** The largest identify message taken from a peer (libp2p's default is 8 KiB). */
const IDENTIFY_MAX_MESSAGE_BYTES = 4096
const IDENTIFY_LIMIT: MessageLimit = { maxMessageBytes: IDENTIFY_MAX_MESSAGE_BYTES, firstMessageOnly: false }
/** yamux's per-stream receive window ceiling: 4 MiB covers ~300 Mbit/s at 100 ms RTT. */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024
/**
 * libp2p pings every connection every 10 s by default, a new stream each
 * time; a DHT server holds ~80 connections, so that was most of an idle
 * daemon's CPU. A minute still finds a dead peer well before TCP would.
 */
export const PING_INTERVAL_MS = 60_000
/** An inbound TCP connection must finish its TLS handshake within this (libp2p's own upgrade timeout). */
const HANDSHAKE_TIMEOUT_MS = 10_000

export interface NetworkInit {
  listen: string[]
  /** Addresses advertised instead of the listen addresses (none: libp2p's own choice). */
  announce?: string[]
  bootstrap: string[]
  /**
   * Keep loopback and private-range addresses in the DHT and in presence, and
   * run as a DHT server without waiting to be publicly reachable. Off on the
   * public internet (libp2p's default); on for a LAN or loopback test network.
   */
  allowPrivateAddresses: boolean
  /** libp2p throttles connections per remote IP; many daemons behind one IP need more. */
  inboundConnectionsPerIpPerSecond: number
  maxConnections: number
  /** Peer records kept at most (peer-store-bound.ts); default MAX_STORED_PEERS. */
  maxStoredPeers?: number
  /** Bytes of peer records kept at most (peer-store-bound.ts); default MAX_STORED_PEER_BYTES. */
  maxStoredPeerBytes?: number
  /** A router is always a DHT server and a bootstrap peer for others. */
  router: boolean
  /**
   * How often each open connection is pinged, to find dead ones and measure
   * round trips; 0 turns it off. Default PING_INTERVAL_MS.
   */
  pingIntervalMs?: number
  /**
   * Relay slots to take on routers once a router's dial-back found this node
   * unreachable (NAT, firewall): each becomes a relay address in presence.
   * 0: never. Default 0.
   */
  relaySlots?: number
  /** A router's relay limits; default DEFAULT_RELAY_LIMITS. */
  relayLimits?: RelayLimits
}

export type NetworkServices = { identify: Identify, ping: Ping, dht: KadDHT, reachability?: ReachabilityService, relay?: CircuitRelayService }
export type NetworkNode = Libp2p<NetworkServices>

export interface NetworkComponents {
  privateKey: PrivateKey
  /** Default: a DhtDatastore with the default limits. */
  datastore?: DhtDatastore
}

/**
 * Requests in flight per query path, and paths per query: Kademlia's α = 3 on
 * one path, as go-libp2p-kad-dht (kad-dht's default is 10 paths of 10). A
 * presence lookup needs three answers, which the three closest known peers
 * give; each further request in flight, and each answer setting off more,
 * took the caller's CPU from the dial and the session it was looking up for
 * (docs/BENCHMARKS.md, "Cold connect: the lookup's own load" and "one lookup path").
 */
export const DHT_ALPHA = 3
export const DHT_DISJOINT_PATHS = 1

/**
 * cspace's Kademlia settings: private protocol, presence validator and
 * selector, server mode, address filter. Shared by the daemon's node and the
 * benchmark's DHT simulation, so the simulation measures these exact settings.
 */
export function cspaceDhtInit (datastore: Datastore, opts: { server: boolean, allowPrivateAddresses: boolean, allowQueryWithZeroPeers: boolean }): KadDHTInit {
  return {
    protocol: DHT_PROTOCOL,
    // not a server from the start: the daemon's reachability probe decides
    // (libp2p's automatic mode would also serve from behind a NAT once the
    // hole-punching address is confirmed)
    clientMode: !opts.server,
    peerInfoMapper: opts.allowPrivateAddresses ? passthroughMapper : removePrivateAddressesMapper,
    validators: { [PRESENCE_NAMESPACE]: presenceValidator({ datastore }) },
    selectors: { [PRESENCE_NAMESPACE]: presenceSelector },
    allowQueryWithZeroPeers: opts.allowQueryWithZeroPeers,
    alpha: DHT_ALPHA,
    disjointPaths: DHT_DISJOINT_PATHS
  }
}

/** Builds and starts the libp2p node with cspace's deliberate settings. */
export async function createNetworkNode (components: NetworkComponents, init: NetworkInit): Promise<NetworkNode> {
  for (const a of [...init.listen, ...init.announce ?? [], ...init.bootstrap]) checkMultiaddr(a)
  for (const a of init.listen) {
    if (component(a, 'tcp') == null) throw new InvalidAddress(a, 'cspace listens on TCP only, e.g. /ip4/0.0.0.0/tcp/4001')
  }
  for (const a of init.bootstrap) {
    if (component(a, 'p2p') == null) throw new InvalidAddress(a, 'a bootstrap address must end in /p2p/<peer id>; copy it from the line `cspace daemon` prints')
  }
  sendWindowUpdatesAtHalfWindow()
  const datastore = components.datastore ?? new DhtDatastore()
  const dhtServer = init.router || init.allowPrivateAddresses
  const relayLimits = init.relayLimits ?? DEFAULT_RELAY_LIMITS
  const gate = new RelayReservationGate(relayLimits.maxReservationsPerIp, relayLimits.maxCircuitsPerPeer)
  // a router counts what it relays (`cspace status`); others need no metrics
  const meter = init.router ? new RelayMeter(relayLimits.relayBytesPerSecond) : undefined
  const pendingInbound = Math.max(10, init.inboundConnectionsPerIpPerSecond)
  let created: NetworkNode | undefined
  // one certificate for the process, over TCP and relayed connections alike
  const tlsIdentity = new TlsIdentity(components.privateKey)
  const node: NetworkNode = await createLibp2p({
    // started below, once every guard and hook is in place: a stream that
    // arrived while libp2p started would otherwise pass unguarded
    start: false,
    ...(meter != null ? { metrics: () => meter } : {}),
    privateKey: components.privateKey,
    logger: libp2pLogger,
    datastore,
    addresses: { listen: init.listen, announce: init.announce ?? [] },
    // every node can dial a relay address; only routers serve relaying
    transports: [
      // TCP: TLS by OpenSSL on the socket, before libp2p's upgrader (secure-tcp.ts)
      secureTcp(punchableTcp(peerIdFromPrivateKey(components.privateKey)), {
        identity: tlsIdentity,
        // 256 in all (secure-tcp.ts); from one address as many as its rate lets through afterwards
        maxPendingHandshakesPerIp: Math.max(4, init.inboundConnectionsPerIpPerSecond),
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS
      }),
      // its relay discovery walks the DHT at a pace, not back to back (paced-random-walk.ts)
      (relayComponents: CircuitRelayTransportComponents) => circuitRelayTransport()(withPacedRandomWalk(relayComponents))
    ],
    connectionGater: gate.gater,
    // relayed connections are streams, not sockets: the same TLS over the stream
    connectionEncrypters: [streamTls(tlsIdentity)],
    // frames longer than any window granted, and a connection's unsent bytes,
    // bounded (yamux-limits.ts); busy streams served in turn (yamux-streams-in-turn.ts)
    streamMuxers: [withStreamsInTurn(withYamuxLimits(yamux({
      // A paused stream (its local socket is full) may still receive a whole
      // window; yamux resets a stream whose read buffer outgrows
      // maxReadBufferLength, and its defaults (16 MiB window, 4 MiB buffer)
      // break bulk transfers into slow readers. Keep the buffer above the window.
      // Its unsent bytes are bounded too (yamux's default: unbounded).
      streamOptions: { maxStreamWindowSize: STREAM_WINDOW_BYTES, maxReadBufferLength: 2 * STREAM_WINDOW_BYTES, maxWriteBufferLength: MAX_STREAM_WRITE_BUFFER }
    }), { maxStreamWindowSize: STREAM_WINDOW_BYTES }))],
    peerDiscovery: init.bootstrap.length > 0 ? [bootstrap({ list: init.bootstrap })] : [],
    connectionManager: {
      maxConnections: init.maxConnections,
      inboundConnectionThreshold: init.inboundConnectionsPerIpPerSecond,
      maxIncomingPendingConnections: pendingInbound
    },
    connectionMonitor: init.pingIntervalMs === 0 ? { enabled: false } : { pingInterval: init.pingIntervalMs ?? PING_INTERVAL_MS },
    services: {
      // a cspace node's own identify message is ~0.5 KiB (a router's, 6
      // protocols); libp2p takes 8 KiB × 10 messages, all kept in the peer store
      identify: identify({ maxMessageSize: IDENTIFY_MAX_MESSAGE_BYTES }),
      // libp2p's connection monitor and one ping of ours (connection-ping.ts) may be on one connection at once (libp2p's default: 1 out, 2 in)
      ping: ping({ maxOutboundStreams: 2, maxInboundStreams: 4 }),
      // a lone router must answer queries before anyone else has joined
      dht: kadDHT(cspaceDhtInit(datastore, { server: dhtServer, allowPrivateAddresses: init.allowPrivateAddresses, allowQueryWithZeroPeers: init.router })),
      reachability: reachability({
        router: init.router,
        relaySlots: init.router ? 0 : init.relaySlots ?? 0,
        trustedRouters: init.bootstrap.map(a => component(a, 'p2p')).filter((id): id is string => id != null),
        // serve the DHT only when others can reach us directly
        onChange: dhtServer ? undefined : (state) => { void node.services.dht.setMode(state === 'public' ? 'server' : 'client') }
      }),
      // a router relays; a user reached through one tries to punch through
      // both NATs to a direct connection
      ...(init.router ? { relay: relayServer(relayLimits) } : {}),
      ...(init.router ? {} : { dcutr: withPunchAddress(dcutr(), () => created == null ? undefined : punchAddress(created)) })
    }
  })
  created = node
  gate.attach(node)
  skipRedundantMerges(node.peerStore, node)
  boundPeerStore(node, datastore, { maxPeers: init.maxStoredPeers, maxBytes: init.maxStoredPeerBytes })
  guardProtocolMessages(node, MESSAGE_LIMITS)
  guardIdentifyRecords(node, IDENTIFY_LIMIT)
  proposeDhtStreams(node, DHT_PROTOCOL, (stream) => { guardMessages(stream, MESSAGE_LIMITS[DHT_PROTOCOL]) })
  trustConnectedContacts(node, node.services.dht)
  // a newer connection from a peer: check its older ones now, not at the next ping
  closeStaleConnections(node)
  // a user's connections to his routers, his only way to be reached from behind a NAT, checked more often
  if (!init.router) watchRelaySlots(node)
  if (meter != null) relayMeters.set(node, meter)
  await node.start()
  return node
}

/** The value of an address's component (`tcp`: the port, `p2p`: the peer ID); undefined if it has none. */
function component (address: string, name: string): string | undefined {
  return multiaddr(address).getComponents().find(c => c.name === name)?.value
}

/** Where a hole punch reaches us, with our peer ID (the transport picks TLS roles by it); none unless found unreachable. */
function punchAddress (node: NetworkNode): Multiaddr | undefined {
  const punch = node.services.reachability?.punchable
  return punch == null ? undefined : multiaddr(`${punch}/p2p/${node.peerId.toString()}`)
}

const relayMeters = new WeakMap<NetworkNode, RelayMeter>()

/** Bytes a router has forwarded for relayed connections since start; null for a node that is not a router. */
export function relayedBytes (node: NetworkNode): number | null {
  return relayMeters.get(node)?.relayedBytes ?? null
}

function checkMultiaddr (a: string): void {
  try {
    multiaddr(a)
  } catch (err) {
    throw new InvalidAddress(a, (err as Error).message)
  }
}
