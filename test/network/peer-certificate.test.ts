import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateCertificate, verifyPeerCertificate as libp2pVerify } from '@libp2p/tls/utils'
import { verifyPeerCertificate, MAX_CERTIFICATE_BYTES } from '../../src/network/peer-certificate.js'
import { InvalidPeerCertificate } from '../../src/network/errors.js'
import { makeLibp2pCertificate } from '../helpers/certificates.js'
import { rsaKeyWithLongExponent } from '../helpers/keys.js'

async function rejects (raw: Uint8Array, why: RegExp): Promise<void> {
  await assert.rejects(verifyPeerCertificate(raw), (err: Error) => {
    assert.ok(err instanceof InvalidPeerCertificate, `expected InvalidPeerCertificate, got ${err.name}: ${err.message}`)
    assert.match(err.message, why)
    return true
  })
}

describe('verifyPeerCertificate (libp2p TLS certificates, checked by OpenSSL)', () => {
  test("@libp2p/tls's own certificates name their peer, for every key type, as its verifier says", async () => {
    for (const type of ['Ed25519', 'secp256k1', 'RSA'] as const) {
      const key = await generateKeyPair(type)
      const raw = new Uint8Array(new X509Certificate((await generateCertificate(key)).cert).raw)
      const peer = await verifyPeerCertificate(raw)
      assert.ok(peer.equals(peerIdFromPrivateKey(key)), type)
      assert.ok(peer.equals(await libp2pVerify(raw, undefined)), type)
      // with the key: an RSA peer ID does not hold it, and the callee shows a stranger by it (their user ID)
      assert.ok(peer.publicKey?.equals(key.publicKey), `${type}: the peer ID carries the certificate's key`)
    }
  })

  test('a key type that makes no peer ID (ECDSA) is refused with a reason, not a crash', async () => {
    const key = await generateKeyPair('ECDSA')
    await rejects(new Uint8Array(new X509Certificate((await generateCertificate(key)).cert).raw), /ECDSA key names no peer/)
  })

  test('a certificate made by the test helper without faults is accepted (so the faults below are what fails)', async () => {
    const key = await generateKeyPair('Ed25519')
    assert.ok((await verifyPeerCertificate(await makeLibp2pCertificate(key))).equals(peerIdFromPrivateKey(key)))
  })

  test("an extension whose key did not sign this certificate's key is refused: no one can claim another's key", async () => {
    const key = await generateKeyPair('Ed25519')
    const victim = await generateKeyPair('Ed25519')
    await rejects(await makeLibp2pCertificate(key, { extensionKey: victim }), /signature does not match/)
    await rejects(await makeLibp2pCertificate(key, { signOtherSpki: true }), /signature does not match/)
  })

  test('an RSA key with a public exponent thousands of bits long is refused before any signature is checked with it', async () => {
    const key = await generateKeyPair('Ed25519')
    await rejects(await makeLibp2pCertificate(key, { extensionKeyBytes: rsaKeyWithLongExponent().protobuf }), /the extension's key is refused: its RSA public exponent has 3072 bits \(at most 32\)/)
  })

  test('a certificate whose own key is RSA is refused before its self-signature is checked', async () => {
    const key = await generateKeyPair('Ed25519')
    await rejects(await makeLibp2pCertificate(key, { certificateKey: 'RSA' }), /its own key is RSA; libp2p certificates use ECDSA or Ed25519/)
  })

  test('no libp2p extension, or only one under another OID, is refused', async () => {
    const key = await generateKeyPair('Ed25519')
    await rejects(await makeLibp2pCertificate(key, { extension: 'none' }), /no libp2p public key extension/)
    await rejects(await makeLibp2pCertificate(key, { extension: 'other-oid' }), /no libp2p public key extension/)
  })

  test('a malformed extension value is refused', async () => {
    const key = await generateKeyPair('Ed25519')
    await rejects(await makeLibp2pCertificate(key, { extension: 'not-a-sequence' }), /malformed libp2p extension/)
    await rejects(await makeLibp2pCertificate(key, { extension: 'extra-element' }), /malformed libp2p extension/)
  })

  test('outside its validity period, or not self-signed, a certificate is refused', async () => {
    const key = await generateKeyPair('Ed25519')
    const day = 24 * 3600_000
    await rejects(await makeLibp2pCertificate(key, { notBefore: new Date(Date.now() + day) }), /not valid yet/)
    await rejects(await makeLibp2pCertificate(key, { notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day) }), /expired/)
    await rejects(await makeLibp2pCertificate(key, { issuedByOther: true }), /not self-signed/)
  })

  test('a changed byte anywhere breaks the certificate: refused with InvalidPeerCertificate, never accepted', async () => {
    const key = await generateKeyPair('Ed25519')
    const good = await makeLibp2pCertificate(key)
    for (let i = 0; i < good.length; i += 7) {
      const bad = Uint8Array.from(good)
      bad[i] ^= 0x01
      await assert.rejects(verifyPeerCertificate(bad), InvalidPeerCertificate, `byte ${i}`)
    }
  })

  test('truncated, oversized and random input is refused with a one-line reason', async () => {
    const key = await generateKeyPair('Ed25519')
    const good = await makeLibp2pCertificate(key)
    for (const n of [0, 1, 2, 10, 100, good.length - 1]) await rejects(good.subarray(0, n), /^invalid peer certificate: [^\n]+$/)
    await rejects(new Uint8Array(MAX_CERTIFICATE_BYTES + 1), /larger than/)
    for (let i = 0; i < 20; i++) await rejects(crypto.getRandomValues(new Uint8Array(200 + i * 37)), /^invalid peer certificate: [^\n]+$/)
  })
})
