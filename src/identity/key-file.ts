import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { writeFileAtomic } from '../util/atomic-file.js'
import { IdentityExists, IdentityMissing, KeyFileCorrupt, WrongPassphrase } from './errors.js'

export type KeyType = 'ed25519' | 'rsa'

/** Version 1 of the key file. The private key is libp2p's protobuf encoding. */
interface KeyFileV1 {
  v: 1
  type: 'Ed25519' | 'RSA'
  /** base64 protobuf public key, in clear so `cspace id` works without the passphrase */
  pub: string
  /** base64 protobuf private key, when not encrypted */
  key?: string
  /** present when encrypted with a passphrase */
  enc?: { kdf: 'scrypt', N: number, r: number, p: number, salt: string, iv: string, tag: string, data: string }
}

// scrypt cost: ~100 ms and 16 MiB on a laptop; enough to slow down guessing.
const SCRYPT = { N: 1 << 14, r: 8, p: 1 }
const MAX_KEY_FILE_BYTES = 64 * 1024

export async function createKeyFile (path: string, type: KeyType, passphrase?: string): Promise<PrivateKey> {
  if (existsSync(path)) throw new IdentityExists(path)
  const key = type === 'rsa' ? await generateKeyPair('RSA', 2048) : await generateKeyPair('Ed25519')
  writeKeyFile(path, key, passphrase)
  return key
}

export function writeKeyFile (path: string, key: PrivateKey, passphrase?: string): void {
  const pb = Buffer.from(privateKeyToProtobuf(key))
  const file: KeyFileV1 = { v: 1, type: key.type as 'Ed25519' | 'RSA', pub: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64') }
  if (passphrase != null && passphrase !== '') {
    const salt = randomBytes(16)
    const iv = randomBytes(12)
    const k = scryptSync(passphrase, salt, 32, { ...SCRYPT, maxmem: 64 * 1024 * 1024 })
    const cipher = createCipheriv('aes-256-gcm', k, iv)
    const data = Buffer.concat([cipher.update(pb), cipher.final()])
    file.enc = { kdf: 'scrypt', ...SCRYPT, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') }
  } else {
    file.key = pb.toString('base64')
  }
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', 0o600)
}

/** The public half, readable without the passphrase. */
export function readPublicKey (path: string): PublicKey {
  const file = parseKeyFile(path)
  try {
    return publicKeyFromProtobuf(Buffer.from(file.pub, 'base64'))
  } catch (err) {
    throw new KeyFileCorrupt(path, `public key: ${(err as Error).message}`)
  }
}

export function readKeyFile (path: string, passphrase?: string): PrivateKey {
  const file = parseKeyFile(path)
  let pb: Buffer
  if (file.enc != null) {
    if (passphrase == null || passphrase === '') throw new WrongPassphrase(path, true)
    const { N, r, p, salt, iv, tag, data } = file.enc
    if (![N, r, p].every(Number.isSafeInteger) || N > 1 << 20 || r > 32 || p > 16) throw new KeyFileCorrupt(path, 'bad scrypt parameters')
    const k = scryptSync(passphrase, Buffer.from(salt, 'base64'), 32, { N, r, p, maxmem: 256 * 1024 * 1024 })
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64'))
    decipher.setAuthTag(Buffer.from(tag, 'base64'))
    try {
      pb = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()])
    } catch {
      throw new WrongPassphrase(path, false)
    }
  } else if (typeof file.key === 'string') {
    pb = Buffer.from(file.key, 'base64')
  } else {
    throw new KeyFileCorrupt(path, 'no key in file')
  }
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(pb)
  } catch (err) {
    throw new KeyFileCorrupt(path, (err as Error).message)
  }
  if (Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64') !== file.pub) throw new KeyFileCorrupt(path, 'public and private halves do not match')
  return key
}

function parseKeyFile (path: string): KeyFileV1 {
  if (!existsSync(path)) throw new IdentityMissing(path)
  if (statSync(path).size > MAX_KEY_FILE_BYTES) throw new KeyFileCorrupt(path, 'too large')
  let file: KeyFileV1
  try {
    file = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    throw new KeyFileCorrupt(path, 'not JSON')
  }
  if (file?.v !== 1) throw new KeyFileCorrupt(path, `unknown version ${String(file?.v)}`)
  if (typeof file.pub !== 'string') throw new KeyFileCorrupt(path, 'no public key')
  return file
}
