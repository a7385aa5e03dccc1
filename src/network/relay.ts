import { circuitRelayServer, RELAY_V2_HOP_CODEC, type CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ipOf, isRelayed } from './addresses.js'
import { addressSource } from './address-source.js'

/**
 * What a router gives the users it relays for. libp2p's defaults (128 KiB and
 * 2 minutes per relayed connection, 15 reservations) are for signalling only;
 * a cspace relay carries whole sessions — a file, a VNC session — so the
 * defaults here are whole-session sized, with caps that still protect the
 * operator. Relayed bytes are TLS end to end: the router sees ciphertext.
 */
export interface RelayLimits {
  /** Users holding a slot (a reservation) on this router at once. */
  maxReservations: number
  /** Slots for users behind one IPv4 address (one NAT) or one IPv6 /64 (one subscriber), so one site cannot take them all. */
  maxReservationsPerIp: number
  /** Relayed connections open at once. */
  maxCircuits: number
  /** Relayed connections one user may have open through this router at once. */
  maxCircuitsPerPeer: number
  /** Bytes one relayed connection may carry (both ways) before the router ends it. */
  circuitBytes: number
  /** Seconds a relayed connection may stay open before the router ends it. */
  circuitSeconds: number
  /** Bytes per second the router relays in all, both ways together; 0 for no cap. */
  relayBytesPerSecond: number
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxReservations: 1024,
  maxReservationsPerIp: 16,
  maxCircuits: 512,
  maxCircuitsPerPeer: 16,
  circuitBytes: 16 * 1024 ** 3,
  circuitSeconds: 12 * 3600,
  relayBytesPerSecond: 0
}

/** How long a reservation lasts before the user must renew it (libp2p renews well before). */
const RESERVATION_TTL_MS = 60 * 60 * 1000

/** The relay service of a router, with cspace's limits. */
export function relayServer (limits: RelayLimits): ReturnType<typeof circuitRelayServer> {
  return circuitRelayServer({
    reservations: {
      maxReservations: limits.maxReservations,
      reservationTtl: RESERVATION_TTL_MS,
      applyDefaultLimit: true,
      defaultDataLimit: BigInt(limits.circuitBytes),
      // the server times the circuit in milliseconds
      defaultDurationLimit: limits.circuitSeconds * 1000
    },
    // every circuit holds one STOP stream to its destination while it is open
    maxOutboundStopStreams: limits.maxCircuits,
    maxInboundHopStreams: limits.maxCircuits
  })
}

/**
 * The caps libp2p's relay server lacks — slots per IP, relayed connections
 * per user — as a connection gater consulted before each reservation and
 * each relayed connection. It needs the running node to see who is
 * connected from where, so it is created first and attached once the node
 * exists. (Per user, libp2p itself keeps one slot at most.)
 */
export class RelayReservationGate {
  private node?: Libp2p<{ relay?: CircuitRelayService }>

  constructor (private readonly maxPerIp: number, private readonly maxCircuitsPerPeer = Infinity) {}

  attach (node: Libp2p<{ relay?: CircuitRelayService }>): void {
    this.node = node
  }

  readonly gater: ConnectionGater = {
    denyInboundRelayReservation: (source: PeerId): boolean => {
      const node = this.node
      const reservations = node?.services.relay?.reservations
      if (node == null || reservations == null) return false
      const from = this.sourceOf(source)
      if (from == null) return false
      let sameSource = 0
      // a slot outlives its holder's connection (libp2p keeps it for its
      // TTL), so it counts against the IP it was taken from, which the
      // relay server stored with it; counting only connected holders let
      // peers that reserved and left take every slot from one IP
      for (const [peer, reservation] of reservations) {
        if (peer.equals(source)) continue
        const theirs = reservation.addr != null ? directSourceOf(reservation.addr) : this.sourceOf(peer)
        if (theirs === from) sameSource++
      }
      return sameSource >= this.maxPerIp
    },
    // asked when `source` wants a relayed connection; its own request is
    // one of the open HOP streams counted
    denyOutboundRelayedConnection: (source: PeerId): boolean => {
      const open = (this.node?.getConnections(source) ?? [])
        .flatMap(c => c.streams)
        .filter(s => s.protocol === RELAY_V2_HOP_CODEC && s.status === 'open').length
      return open - 1 >= this.maxCircuitsPerPeer
    }
  }

  /** Where a peer is connected from now, directly (its IPv4 address or IPv6 /64). */
  private sourceOf (peer: PeerId): string | undefined {
    const conn = this.node?.getConnections(peer).find(c => c.status === 'open' && !isRelayed(c.remoteAddr))
    return conn != null ? directSourceOf(conn.remoteAddr) : undefined
  }
}

/** What a direct address counts against (addressSource); none for a relayed one, whose IP is the other relay's. */
function directSourceOf (addr: Multiaddr): string | undefined {
  const ip = isRelayed(addr) ? undefined : ipOf(addr)?.value
  return ip != null ? addressSource(ip) : undefined
}
