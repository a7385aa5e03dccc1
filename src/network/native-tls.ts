import type net from 'node:net'
import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import { createHash } from 'node:crypto'
import { generateCertificate } from '@libp2p/tls/utils'
import { corkForTurn } from '../util/cork.js'
import { UnexpectedPeerError, type PeerId, type PrivateKey } from '@libp2p/interface'
import { verifyPeerCertificate } from './peer-certificate.js'

/**
 * libp2p's TLS handshake (the libp2p TLS spec: a self-signed certificate
 * whose extension carries the node's key and its signature over the
 * certificate's key; TLS 1.3; both sides present one) run by Node's TLS on
 * the TCP socket itself.
 *
 * Why not @libp2p/tls: it runs Node's TLS over a JavaScript stream
 * (`js_stream_socket`), so every byte crossed JavaScript twice per side, and
 * it made a new P-256 key and certificate for every connection. Here OpenSSL
 * reads and writes the socket directly, one certificate serves the process
 * (as in go-libp2p), and OpenSSL checks the peer's (peer-certificate.ts).
 * Relayed connections, which are libp2p streams and not sockets, run the
 * same handshake over the stream (stream-tls.ts).
 *
 * The muxer is chosen in the handshake (ALPN), as @libp2p/tls does too.
 */

/** The muxer every cspace node speaks; offered by ALPN in the handshake. */
export const YAMUX_PROTOCOL = '/yamux/1.0.0'

/** What a finished handshake established. */
export interface SecuredSocket {
  socket: tls.TLSSocket
  /** The peer whose libp2p key signed the certificate the handshake proved. */
  remotePeer: PeerId
}

/** Bytes a connection's TLS socket takes before it asks libp2p to wait (see secureSocket). */
const SOCKET_HIGH_WATER = 1024 * 1024

/**
 * TLS 1.3's suites, AES-128-GCM first (OpenSSL's default puts AES-256
 * first): 4.2 against 3.1 GB/s here with AES-NI, on every byte both daemons
 * carry, and 128-bit keys are TLS 1.3's mandatory suite and what ssh uses.
 */
const CIPHER_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'

/**
 * The signatures either side may prove its certificate key with: ECDSA and
 * Ed25519, never RSA. Every libp2p implementation makes an ECDSA P-256
 * certificate key; an RSA one is the peer's choice of exponent, and OpenSSL
 * checks a signature with an exponent as long as the modulus (5.7 ms at
 * 3072 bits against 0.04), twice per handshake. A peer limited to these
 * cannot present an RSA certificate, and one that does anyway is refused
 * before OpenSSL checks its signature.
 */
const SIGNATURE_ALGORITHMS = 'ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512:ed25519'

/** Verified certificates are remembered by hash: peers keep theirs for the life of their process. */
const VERIFIED_CACHE_SIZE = 1024

/** This node's certificate and a TLS context made from it, once per process. */
export class TlsIdentity {
  private context?: Promise<tls.SecureContext>
  private readonly verified = new Map<string, PeerId>()

  constructor (private readonly privateKey: PrivateKey) {}

  async secureContext (): Promise<tls.SecureContext> {
    this.context ??= generateCertificate(this.privateKey).then(({ cert, key }) =>
      tls.createSecureContext({ cert, key, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: CIPHER_SUITES, sigalgs: SIGNATURE_ALGORITHMS }))
    this.context.catch(() => { this.context = undefined }) // a failed attempt is not kept
    return await this.context
  }

  /** The peer a certificate speaks for; throws (UnexpectedPeerError, InvalidPeerCertificate) if it is not `expected` or not valid. */
  async verify (raw: Buffer, expected?: PeerId): Promise<PeerId> {
    const hash = createHash('sha256').update(raw).digest('base64')
    let peer = this.verified.get(hash)
    if (peer == null) {
      peer = await verifyPeerCertificate(raw)
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string)
      this.verified.set(hash, peer)
    }
    if (expected != null && !expected.equals(peer)) {
      throw new UnexpectedPeerError(`the peer is ${peer.toString()}, not the ${expected.toString()} that was dialled`)
    }
    return peer
  }
}

/**
 * Runs the handshake on a connected socket (or a relayed connection's stream
 * as a Node duplex), as TLS client or server. Rejects
 * (and destroys the socket) if the handshake fails, the certificate is not
 * the expected peer's, or `signal` aborts first.
 */
export async function secureSocket (raw: net.Socket | Duplex, identity: TlsIdentity, opts: { isServer: boolean, expectedPeer?: PeerId, signal: AbortSignal }): Promise<SecuredSocket> {
  const fail = (err: Error): never => {
    raw.destroy()
    throw err
  }
  if (opts.signal.aborted) fail(opts.signal.reason ?? new Error('TLS handshake aborted'))
  const secureContext = await identity.secureContext().catch(fail)
  // an abort while the certificate was made has already fired its event
  if (opts.signal.aborted) fail(opts.signal.reason ?? new Error('TLS handshake aborted'))
  // A write to the TLS socket reports "full" past its high-water mark, and
  // libp2p then waits for 'drain' before sending more: at Node's 16 KiB that
  // was each yamux frame on its own, and four parallel tunnels moved less
  // than one (2.9 against 5.8 Gbit/s with 1 MiB, in A/B runs)
  const options = { secureContext, rejectUnauthorized: false, ALPNProtocols: [YAMUX_PROTOCOL], highWaterMark: SOCKET_HIGH_WATER }
  const socket = opts.isServer
    ? new tls.TLSSocket(raw, { ...options, isServer: true, requestCert: true })
    : tls.connect({ ...options, socket: raw })
  // The TCP socket's errors reach the TLS socket (a dial's abort signal
  // destroys the TCP socket with an error, even after a failed handshake);
  // once the connection is set up its own listener handles them, and until
  // then, or after a failure, an error only means the socket is gone.
  socket.on('error', () => {})
  // the TCP multiaddr connection resets a socket on abort; TLSSocket's own
  // resetAndDestroy refuses (its handle is not TCP), so reset the TCP under it
  if ('resetAndDestroy' in raw) {
    socket.resetAndDestroy = () => {
      raw.resetAndDestroy()
      return socket
    }
  }
  let settle: (err?: Error) => void = () => {}
  const onAbort = (): void => { settle(opts.signal.reason ?? new Error('TLS handshake aborted')) }
  const onSecure = (): void => { settle() }
  const onError = (err: Error): void => { settle(err) }
  const onClose = (): void => { settle(new Error('the connection closed during the TLS handshake')) }
  const secureEvent = opts.isServer ? 'secure' : 'secureConnect'
  // libp2p writes a yamux frame as two buffers (header, payload), and a new
  // stream's ACK and its protocol answer a few promise hops apart: each turn
  // of the loop's frames leave as one TLS record and one system call
  // (a warm connect: 10 → 8 writes across both daemons)
  const write = socket.write
  socket.write = function (this: tls.TLSSocket, ...args: Parameters<typeof write>) {
    corkForTurn(this)
    return write.apply(this, args)
  } as typeof write
  try {
    await new Promise<void>((resolve, reject) => {
      settle = (err) => { err == null ? resolve() : reject(err) }
      opts.signal.addEventListener('abort', onAbort, { once: true })
      socket.once(secureEvent, onSecure).on('error', onError).once('close', onClose)
    })
    // Go on outside the TLS socket's read callback. The handshake ends inside
    // Node's TLSWrap::ClearOut, which runs promise continuations before it
    // returns to SSL_read; what follows (libp2p's upgrade, connection:open
    // listeners, dials aborted meanwhile) can destroy sockets. Daemons died
    // of SIGSEGV in SSL_read under ClearOut (core dump) when first connects
    // aborted a presence lookup's dials as soon as a connection opened; with
    // this, none did in ~45 such connects.
    await new Promise<void>((resolve) => { setImmediate(resolve) })
    if (socket.alpnProtocol !== YAMUX_PROTOCOL) throw new Error(`the peer does not speak ${YAMUX_PROTOCOL}`)
    const raw509 = socket.getPeerCertificate()?.raw
    if (raw509 == null) throw new Error('the peer presented no certificate')
    const remotePeer = await identity.verify(raw509, opts.expectedPeer)
    opts.signal.throwIfAborted()
    // closed while verifying: returned, it would never close the connection made of it
    if (socket.destroyed) throw new Error('the connection closed during the TLS handshake')
    return { socket, remotePeer }
  } catch (err) {
    socket.destroy()
    return fail(err as Error)
  } finally {
    // from here the connection's own listeners take over
    opts.signal.removeEventListener('abort', onAbort)
    socket.off(secureEvent, onSecure).off('error', onError).off('close', onClose)
  }
}
