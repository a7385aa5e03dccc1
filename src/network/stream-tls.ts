import type { Duplex } from 'node:stream'
import type { ConnectionEncrypter, MessageStream, SecureConnectionOptions, SecuredConnection, Upgrader } from '@libp2p/interface'
import { toMessageStream, toNodeDuplex } from '@libp2p/tls/utils'
import { secureSocket, YAMUX_PROTOCOL, type TlsIdentity } from './native-tls.js'

/** libp2p's TLS protocol ID: peers still running @libp2p/tls agree on it and interoperate. */
export const TLS_PROTOCOL = '/tls/1.0.0'

/**
 * libp2p's TLS for connections that are libp2p streams, not sockets (relayed
 * ones, through a router's circuit), run by the same code as TCP's
 * (native-tls.ts): this process's one certificate, OpenSSL checking the
 * peer's (peer-certificate.ts), the same signature algorithms (ECDSA and
 * Ed25519 only). @libp2p/tls, used before, made a new P-256 key and
 * certificate for every connection, checked the peer's in JavaScript, and
 * had no setting to refuse an RSA certificate key of the peer's making,
 * whose exponent OpenSSL then checked at any length (5.7 ms a check at
 * 3072 bits). The muxer is agreed in the handshake (ALPN: yamux) as before.
 */
export function streamTls (identity: TlsIdentity): (components: { upgrader: Upgrader }) => ConnectionEncrypter {
  return (components) => {
    const secure = async (connection: MessageStream, isServer: boolean, options?: SecureConnectionOptions): Promise<SecuredConnection> => {
      try {
        const duplex: Duplex = toNodeDuplex(connection)
        // it has no listener of its own until TLS wraps it: an abort before that must not crash the process
        duplex.on('error', () => {})
        const { socket, remotePeer } = await secureSocket(duplex, identity, { isServer, expectedPeer: options?.remotePeer, signal: options?.signal ?? new AbortController().signal })
        const streamMuxer = options?.skipStreamMuxerNegotiation === true ? undefined : components.upgrader.getStreamMuxers().get(YAMUX_PROTOCOL)
        return { remotePeer, connection: toMessageStream(connection, socket), streamMuxer }
      } catch (err) {
        // the stream under the handshake goes with it, as @libp2p/tls did
        connection.abort(err as Error)
        throw err
      }
    }
    return {
      protocol: TLS_PROTOCOL,
      secureInbound: async (connection, options) => await secure(connection, true, options),
      secureOutbound: async (connection, options) => await secure(connection, false, options)
    }
  }
}
