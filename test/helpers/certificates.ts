// first: @libp2p/tls loads reflect-metadata, which @peculiar/x509 needs as it loads, and
// sets x509's crypto provider (a WebCrypto polyfill); keys for x509 must come from that same provider
import '@libp2p/tls/utils'
import { X509Certificate as NodeX509 } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import * as asn1js from 'asn1js'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

const webcrypto = x509.cryptoProvider.get()

const LIBP2P_EXTENSION_OID = '1.3.6.1.4.1.53594.1.1'
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
/** An RSA certificate key, as the libp2p TLS spec allows and no libp2p implementation makes. */
const RSA_ALG = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: Uint8Array.from([1, 0, 1]), hash: 'SHA-256' }
const HOUR = 3600_000

/** What to get wrong in a certificate; by default it is a valid libp2p TLS certificate of `key`. */
export interface CertificateFaults {
  /** The libp2p key in the extension (default `key`, which also signs). */
  extensionKey?: PrivateKey
  /** The extension's key as protobuf bytes, whatever they hold (its signature is then `key`'s, and cannot match). */
  extensionKeyBytes?: Uint8Array
  /** Sign another certificate key's SPKI instead of this one's. */
  signOtherSpki?: boolean
  /** Leave out the libp2p extension, or give it under another OID. */
  extension?: 'none' | 'other-oid' | 'not-a-sequence' | 'extra-element'
  notBefore?: Date
  notAfter?: Date
  /** Issued (signed) by another key and name, not self-signed. */
  issuedByOther?: boolean
  /** The certificate's own (TLS) key: ECDSA P-256 by default, as every libp2p implementation makes. */
  certificateKey?: 'ECDSA' | 'RSA'
}

/** A certificate (DER) as @libp2p/tls makes them, with the given faults. */
export async function makeLibp2pCertificate (key: PrivateKey, faults: CertificateFaults = {}): Promise<Uint8Array> {
  return (await makeLibp2pCredentials(key, faults)).cert
}

/** Such a certificate (DER) with its private key (PKCS#8 PEM), for a TLS handshake. */
export async function makeLibp2pCredentials (key: PrivateKey, faults: CertificateFaults = {}): Promise<{ cert: Uint8Array, privateKeyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(faults.certificateKey === 'RSA' ? RSA_ALG : ALG, true, ['sign', 'verify'])
  const signingAlgorithm = faults.certificateKey === 'RSA' ? RSA_ALG : ALG
  const other = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
  const spki = await webcrypto.subtle.exportKey('spki', (faults.signOtherSpki === true ? other : keys).publicKey)
  const signature = await key.sign(Buffer.concat([Buffer.from('libp2p-tls-handshake:'), Buffer.from(spki)]))
  const items = [
    new asn1js.OctetString({ valueHex: faults.extensionKeyBytes ?? publicKeyToProtobuf((faults.extensionKey ?? key).publicKey) }),
    new asn1js.OctetString({ valueHex: signature })
  ]
  if (faults.extension === 'extra-element') items.push(new asn1js.OctetString({ valueHex: new Uint8Array(4) }))
  const value = faults.extension === 'not-a-sequence'
    ? new asn1js.OctetString({ valueHex: signature }).toBER()
    : new asn1js.Sequence({ value: items }).toBER()
  const extensions = faults.extension === 'none'
    ? []
    : [new x509.Extension(faults.extension === 'other-oid' ? '1.3.6.1.4.1.53594.1.2' : LIBP2P_EXTENSION_OID, true, value)]
  const notBefore = faults.notBefore ?? new Date(Date.now() - HOUR)
  const notAfter = faults.notAfter ?? new Date(Date.now() + 100 * 365 * 24 * HOUR)
  notAfter.setMilliseconds(0)
  const serialNumber = '01' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex')
  const cert = faults.issuedByOther === true
    ? await x509.X509CertificateGenerator.create({ serialNumber, notBefore, notAfter, signingAlgorithm, publicKey: keys.publicKey, signingKey: other.privateKey, subject: 'CN=peer', issuer: 'CN=someone else', extensions })
    : await x509.X509CertificateGenerator.createSelfSigned({ serialNumber, notBefore, notAfter, signingAlgorithm, keys, extensions })
  return { cert: new Uint8Array(new NodeX509(cert.toString()).raw), privateKeyPem: await pkcs8Pem(keys.privateKey) }
}

/** A self-signed certificate for 127.0.0.1 and its key (PEM), as an HTTPS server of one's own would have. */
export async function selfSignedServerCredentials (): Promise<{ cert: string, key: string }> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=127.0.0.1', notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + 24 * HOUR), signingAlgorithm: ALG, keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])]
  })
  return { cert: cert.toString('pem'), key: await pkcs8Pem(keys.privateKey) }
}

/** A private key as PKCS#8 PEM, as Node's TLS takes it. */
async function pkcs8Pem (key: Parameters<typeof webcrypto.subtle.exportKey>[1]): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`
}
