import type net from 'node:net'
import type { TCPComponents } from '@libp2p/tcp'
import type { Listener, MultiaddrConnection, PeerId, Transport, Upgrader } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { secureSocket, YAMUX_PROTOCOL, type TlsIdentity } from './native-tls.js'
import { addressSource } from './address-source.js'

/**
 * A TCP transport whose connections are TLS from their first byte, the
 * handshake run by OpenSSL on the socket (native-tls.ts), before libp2p's
 * upgrader sees the connection; the upgrader is told the encryption is done
 * and who the peer is, and takes the muxer the handshake agreed on. This
 * also saves the round trip libp2p spends choosing the encryption by
 * multistream-select, which every cspace node would answer the same way.
 */
export interface SecureTcpInit {
  identity: TlsIdentity
  /**
   * Inbound handshakes in progress at once, from all addresses; beyond it new
   * connections are closed (a flood costs us no handshakes). Default
   * DEFAULT_MAX_PENDING_HANDSHAKES.
   */
  maxPendingHandshakes?: number
  /**
   * Of those, from one source (an IPv4 address, an IPv6 /64), so that one
   * address cannot hold them all. Default DEFAULT_MAX_PENDING_HANDSHAKES_PER_IP.
   */
  maxPendingHandshakesPerIp?: number
  /**
   * An inbound connection that has not finished its handshake by then is
   * closed. A shorter one would not protect the slots (an attacker reopens
   * as soon as one is closed; the per-source cap is what bounds them), so it
   * only needs to be generous to honest slow links.
   */
  handshakeTimeoutMs: number
}

/** Enough that holding every slot takes 64 sources, yet bounded: each pending handshake is a socket and an OpenSSL session. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 256
/** An honest TLS 1.3 handshake is done in about one round trip, so a site rarely has more than one or two in flight to one node. */
export const DEFAULT_MAX_PENDING_HANDSHAKES_PER_IP = 4

export function secureTcp (inner: (components: TCPComponents) => Transport, init: SecureTcpInit): (components: TCPComponents) => Transport {
  return (components) => {
    const transport = inner(components) as Transport & PrivateTcp
    // sockets whose handshake this transport ran, and the peer it proved
    const secured = new WeakMap<net.Socket, PeerId>()
    const upgraderFor = (upgrader: Upgrader): Upgrader => nativeTlsUpgrader(upgrader, secured)

    const connect = transport._connect.bind(transport)
    transport._connect = async (ma, options) => {
      const raw = await connect(ma, options)
      // a hole punch's second side (initiator: false) answers as the TLS server
      const { socket, remotePeer } = await secureSocket(raw, init.identity, { isServer: options.initiator === false, expectedPeer: peerIdOf(ma), signal: options.signal })
      secured.set(socket, remotePeer)
      return socket
    }
    const dial = transport.dial.bind(transport)
    transport.dial = async (ma, options) => await dial(ma, { ...options, upgrader: upgraderFor(options.upgrader) })

    const createListener = transport.createListener.bind(transport)
    transport.createListener = (options) => {
      const listener = createListener({ ...options, upgrader: upgraderFor(options.upgrader) }) as Listener & PrivateTcpListener
      const pending = new PendingHandshakes(init.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES, init.maxPendingHandshakesPerIp ?? DEFAULT_MAX_PENDING_HANDSHAKES_PER_IP)
      // the handshake comes between accept and @libp2p/tcp's own handling of the socket
      listener.server.removeAllListeners('connection')
      listener.server.on('connection', (raw: net.Socket) => {
        if (!pending.admit(raw)) {
          raw.destroy()
          return
        }
        secureSocket(raw, init.identity, { isServer: true, signal: AbortSignal.timeout(init.handshakeTimeoutMs) })
          .then(({ socket, remotePeer }) => {
            secured.set(socket, remotePeer)
            listener.onSocket(socket)
          })
          .catch(() => {}) // secureSocket has closed it; the peer sees the TLS alert or the close
          .finally(() => pending.release(raw))
      })
      listener.addEventListener('close', () => { pending.destroyAll() })
      return listener
    }
    return transport
  }
}

/**
 * Inbound sockets whose handshake is in progress, counted in all and per
 * source. The caps are taken at accept, before libp2p's per-IP rate limit
 * and connection gater, which see a connection only once its handshake is
 * done: without the per-source cap, a few idle sockets from one address
 * held every slot and every other peer was refused.
 */
class PendingHandshakes {
  private readonly sockets = new Map<net.Socket, string>()
  private readonly perSource = new Map<string, number>()

  constructor (private readonly max: number, private readonly maxPerSource: number) {}

  /** Counts the socket in, or says no (over a cap, or already gone). */
  admit (socket: net.Socket): boolean {
    if (socket.remoteAddress == null || this.sockets.size >= this.max) return false
    const source = addressSource(socket.remoteAddress)
    const count = this.perSource.get(source) ?? 0
    if (count >= this.maxPerSource) return false
    this.sockets.set(socket, source)
    this.perSource.set(source, count + 1)
    return true
  }

  release (socket: net.Socket): void {
    const source = this.sockets.get(socket)
    if (source == null) return
    this.sockets.delete(socket)
    const count = (this.perSource.get(source) ?? 1) - 1
    if (count > 0) this.perSource.set(source, count)
    else this.perSource.delete(source)
  }

  destroyAll (): void {
    for (const socket of this.sockets.keys()) socket.destroy()
  }
}

/** The upgrader, told that a socket secured here needs no encryption and which muxer it uses. */
function nativeTlsUpgrader (upgrader: Upgrader, secured: WeakMap<net.Socket, PeerId>): Upgrader {
  const options = <T extends object>(maConn: MultiaddrConnection, opts: T): T => {
    const socket = (maConn as { socket?: net.Socket }).socket
    const remotePeer = socket != null ? secured.get(socket) : undefined
    if (remotePeer == null) return opts
    return { ...opts, skipEncryption: true, remotePeer, muxerFactory: upgrader.getStreamMuxers().get(YAMUX_PROTOCOL) }
  }
  const wrapped = Object.create(upgrader) as Upgrader
  wrapped.upgradeOutbound = async (maConn, opts) => await upgrader.upgradeOutbound(maConn, options(maConn, opts))
  wrapped.upgradeInbound = async (maConn, opts) => { await upgrader.upgradeInbound(maConn, options(maConn, opts)) }
  return wrapped
}

function peerIdOf (ma: Multiaddr): PeerId | undefined {
  const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  return id != null ? peerIdFromString(id) : undefined
}

/**
 * The parts of @libp2p/tcp this wraps: the TCP class's `_connect`, the
 * listener's `server` and `onSocket`, and the `socket` of its multiaddr
 * connections (read in nativeTlsUpgrader). Pinned by package-lock; every
 * daemon test fails if they change.
 */
interface PrivateTcp {
  _connect: (ma: Multiaddr, options: { signal: AbortSignal, initiator?: boolean }) => Promise<net.Socket>
}
interface PrivateTcpListener {
  server: net.Server
  onSocket: (socket: net.Socket) => void
}
