import type net from 'node:net'
import type { TCPComponents } from '@libp2p/tcp'
import type { Listener, MultiaddrConnection, PeerId, Transport, Upgrader } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { secureSocket, YAMUX_PROTOCOL, type TlsIdentity } from './native-tls.js'

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
  /** Inbound handshakes in progress at once; beyond it new connections are closed (a flood costs us no handshakes). */
  maxPendingHandshakes: number
  /** An inbound connection that has not finished its handshake by then is closed. */
  handshakeTimeoutMs: number
}

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
      const pending = new Set<net.Socket>()
      // the handshake comes between accept and @libp2p/tcp's own handling of the socket
      listener.server.removeAllListeners('connection')
      listener.server.on('connection', (raw: net.Socket) => {
        if (pending.size >= init.maxPendingHandshakes) {
          raw.destroy()
          return
        }
        pending.add(raw)
        secureSocket(raw, init.identity, { isServer: true, signal: AbortSignal.timeout(init.handshakeTimeoutMs) })
          .then(({ socket, remotePeer }) => {
            secured.set(socket, remotePeer)
            listener.onSocket(socket)
          })
          .catch(() => {}) // secureSocket has closed it; the peer sees the TLS alert or the close
          .finally(() => pending.delete(raw))
      })
      listener.addEventListener('close', () => { for (const raw of pending) raw.destroy() })
      return listener
    }
    return transport
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
