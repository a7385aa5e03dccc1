import { X509Certificate } from 'node:crypto'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { costlyKeyReason } from '../identity/index.js'
import { InvalidPeerCertificate } from './errors.js'

/**
 * Checks a libp2p TLS certificate (the libp2p TLS spec) and returns the peer
 * it speaks for: self-signed and in its validity period, with the libp2p
 * extension carrying a libp2p public key and that key's signature over
 * "libp2p-tls-handshake:" + the certificate's SubjectPublicKeyInfo.
 *
 * OpenSSL (node:crypto's X509Certificate) parses the certificate and checks
 * its signature; only the extension is read here, by a bounded DER walk.
 * @libp2p/tls's verifier does the same in JavaScript (asn1js, @peculiar/x509,
 * a WebCrypto polyfill): 1.7-2.2 ms per certificate against ~0.1 ms, on the
 * path of every new connection, both sides (docs/BENCHMARKS.md, cold connect).
 */
export async function verifyPeerCertificate (raw: Uint8Array, now: number = Date.now()): Promise<PeerId> {
  if (raw.byteLength > MAX_CERTIFICATE_BYTES) throw new InvalidPeerCertificate(`larger than ${MAX_CERTIFICATE_BYTES} bytes`)
  let cert: X509Certificate
  try {
    cert = new X509Certificate(raw)
  } catch (err) {
    throw new InvalidPeerCertificate(`not an X.509 certificate (${(err as Error).message})`)
  }
  if (cert.validFromDate.getTime() > now) throw new InvalidPeerCertificate('not valid yet')
  if (cert.validToDate.getTime() < now) throw new InvalidPeerCertificate('expired')
  // as the handshake allows (native-tls.ts): the self-signature is checked with this key
  let certKeyType: string
  try {
    certKeyType = cert.publicKey.asymmetricKeyType ?? 'unknown'
  } catch (err) {
    throw new InvalidPeerCertificate(`its own key cannot be read (${(err as Error).message})`)
  }
  if (!CERTIFICATE_KEY_TYPES.has(certKeyType)) throw new InvalidPeerCertificate(`its own key is ${certKeyType.toUpperCase()}; libp2p certificates use ECDSA or Ed25519`)
  if (cert.checkIssued(cert) !== true || !cert.verify(cert.publicKey)) throw new InvalidPeerCertificate('not self-signed')
  const { spki, signedKey } = readTbsCertificate(new Uint8Array(cert.raw))
  if (signedKey == null) throw new InvalidPeerCertificate('no libp2p public key extension')
  const [keyBytes, signature] = readSignedKey(signedKey)
  let key
  try {
    key = publicKeyFromProtobuf(keyBytes)
  } catch (err) {
    throw new InvalidPeerCertificate(`the extension's key cannot be read (${(err as Error).message})`)
  }
  const costly = costlyKeyReason(key)
  if (costly != null) throw new InvalidPeerCertificate(`the extension's key is refused: ${costly}`)
  const signed = Buffer.concat([CERT_PREFIX, spki])
  // a malformed signature may throw rather than fail; verify may answer at once or later
  const valid = await Promise.resolve().then(async () => await key.verify(signed, signature)).catch(() => false)
  if (!valid) throw new InvalidPeerCertificate("the extension's signature does not match the certificate's key")
  try {
    // from the key, not its CID: an RSA peer ID made from a CID carries no key,
    // and the callee needs the key to say who a stranger is (their user ID)
    return peerIdFromPublicKey(key)
  } catch (err) {
    throw new InvalidPeerCertificate(`the extension's ${key.type} key names no peer (${(err as Error).message})`)
  }
}

/** The certificate key types accepted: those of the signature algorithms the handshake allows. */
const CERTIFICATE_KEY_TYPES = new Set(['ec', 'ed25519'])

/** A libp2p certificate is well under 1 KiB; anything this size is not one. */
export const MAX_CERTIFICATE_BYTES = 16 * 1024

const CERT_PREFIX = Buffer.from('libp2p-tls-handshake:')
/** 1.3.6.1.4.1.53594.1.1, DER-encoded. */
const LIBP2P_EXTENSION_OID = Uint8Array.from([0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xa2, 0x5a, 0x01, 0x01])

const SEQUENCE = 0x30
const OCTET_STRING = 0x04
const OID = 0x06
const BOOLEAN = 0x01
const VERSION = 0xa0 // [0] EXPLICIT
const EXTENSIONS = 0xa3 // [3] EXPLICIT

/** An element: its tag, where it begins (`at`), and where its content starts and ends. */
interface Tlv { tag: number, at: number, start: number, end: number }

/** One DER element at `at`, within `limit`; definite lengths only, as DER requires. */
function readTlv (b: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new InvalidPeerCertificate('truncated DER')
  const tag = b[at]
  let length = b[at + 1]
  let start = at + 2
  if (length & 0x80) {
    const n = length & 0x7f
    if (n === 0 || n > 3 || start + n > limit) throw new InvalidPeerCertificate('bad DER length')
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + b[start + i]
    start += n
  }
  const end = start + length
  if (end > limit) throw new InvalidPeerCertificate('truncated DER')
  return { tag, at, start, end }
}

/** The elements inside a constructed element. */
function children (b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = parent.start; at < parent.end; at = out[out.length - 1].end) out.push(readTlv(b, at, parent.end))
  return out
}

function expect (t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t?.tag !== tag) throw new InvalidPeerCertificate(`malformed ${what}`)
  return t
}

/** The SubjectPublicKeyInfo as encoded, and the libp2p extension's value if present. */
function readTbsCertificate (b: Uint8Array): { spki: Uint8Array, signedKey?: Uint8Array } {
  const certificate = expect(readTlv(b, 0, b.length), SEQUENCE, 'certificate')
  const tbs = expect(children(b, certificate)[0], SEQUENCE, 'tbsCertificate')
  const fields = children(b, tbs)
  // version [0]?, serial, signature, issuer, validity, subject, spki, ...
  const spkiIndex = fields[0]?.tag === VERSION ? 6 : 5
  const spkiField = expect(fields[spkiIndex], SEQUENCE, 'subjectPublicKeyInfo')
  const spki = b.subarray(spkiField.at, spkiField.end)
  const extensions = fields.slice(spkiIndex + 1).find(f => f.tag === EXTENSIONS)
  if (extensions == null) return { spki }
  for (const ext of children(b, expect(children(b, extensions)[0], SEQUENCE, 'extensions'))) {
    const [id, ...rest] = children(b, expect(ext, SEQUENCE, 'extension'))
    expect(id, OID, 'extension id')
    if (Buffer.compare(b.subarray(id.start, id.end), LIBP2P_EXTENSION_OID) !== 0) continue
    const value = expect(rest[0]?.tag === BOOLEAN ? rest[1] : rest[0], OCTET_STRING, 'extension value')
    return { spki, signedKey: b.subarray(value.start, value.end) }
  }
  return { spki }
}

/** SignedKey ::= SEQUENCE { publicKey OCTET STRING, signature OCTET STRING } */
function readSignedKey (value: Uint8Array): [Uint8Array, Uint8Array] {
  const seq = expect(readTlv(value, 0, value.length), SEQUENCE, 'libp2p extension')
  if (seq.end !== value.length) throw new InvalidPeerCertificate('malformed libp2p extension')
  const [key, signature, extra] = children(value, seq)
  if (extra != null) throw new InvalidPeerCertificate('malformed libp2p extension')
  expect(key, OCTET_STRING, 'libp2p extension key')
  expect(signature, OCTET_STRING, 'libp2p extension signature')
  return [value.subarray(key.start, key.end), value.subarray(signature.start, signature.end)]
}
