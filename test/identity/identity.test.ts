import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { costlyKeyReason, fingerprint, parseUserId, readKeyFile, userIdFromPublicKey, InvalidUserId, WrongPassphrase, KeyFileCorrupt } from '../../src/identity/index.js'
import { rsaKeyWithLongExponent } from '../helpers/keys.js'
import type { PublicKey } from '@libp2p/interface'
import { generateKeyPairSync } from 'node:crypto'
import { cleanupAll, makeProfile, runCli, startDaemon } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'

describe('identity', () => {
  after(async () => { await cleanupAll() })

  test('Ed25519 by default: the key file is 0600 and `cspace id` prints the same ID and fingerprint', async () => {
    const p = await makeProfile('ed')
    const key = join(p.home, 'identity.key')
    assert.equal(statSync(key).mode & 0o777, 0o600)
    assert.equal(statSync(p.home).mode & 0o777, 0o700)
    const id = await runCli(p.home, ['id'])
    assert.equal(id.code, 0)
    const [line1, line2] = id.stdout.trim().split('\n')
    assert.equal(line1, p.userId)
    assert.match(line1, /^cs1[a-z2-7]+$/)
    assert.match(line2, /^fingerprint: (\d{5} ){5}\d{5}$/)
    const json = JSON.parse((await runCli(p.home, ['id', '--json'])).stdout)
    assert.equal(json.keyType, 'Ed25519')
    assert.equal(json.userId, p.userId)
  })

  test('RSA-2048 on request; its ID carries the whole key, so it verifies offline', async () => {
    const p = await makeProfile('rsa', { keyType: 'rsa' })
    const id = parseUserId(p.userId)
    assert.equal(id.publicKey.type, 'RSA')
    assert.equal(fingerprint(id.publicKey).replace('fingerprint: ', ''), p.fingerprint)
    assert.equal(JSON.parse((await runCli(p.home, ['id', '--json'])).stdout).keyType, 'RSA')
  })

  test('a second init on the same profile is refused and the key is kept', async () => {
    const p = await makeProfile('twice')
    const before = readFileSync(join(p.home, 'identity.key'))
    const r = await runCli(p.home, ['init'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /already exists/)
    assert.ok(readFileSync(join(p.home, 'identity.key')).equals(before))
  })

  test('with CSPACE_PASSPHRASE the key is encrypted at rest; a wrong or missing passphrase is a clear error', async () => {
    const env = { CSPACE_PASSPHRASE: 'correct horse battery staple' }
    const p = await makeProfile('enc', { env })
    const file = readFileSync(join(p.home, 'identity.key'), 'utf8')
    assert.match(file, /"kdf": "scrypt"/)
    assert.doesNotMatch(file, /"key":/)
    // the public ID needs no passphrase
    assert.equal((await runCli(p.home, ['id'])).stdout.split('\n')[0], p.userId)
    assert.throws(() => readKeyFile(join(p.home, 'identity.key'), 'wrong'), WrongPassphrase)
    assert.throws(() => readKeyFile(join(p.home, 'identity.key')), WrongPassphrase)
    const key = readKeyFile(join(p.home, 'identity.key'), env.CSPACE_PASSPHRASE)
    assert.equal(userIdFromPublicKey(key.publicKey).text, p.userId)
    // the daemon refuses to start without the right passphrase, in one line
    const wrong = await runCli(p.home, ['daemon'], { env: { CSPACE_PASSPHRASE: 'nope' } })
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /^cspace: wrong passphrase for .*identity\.key; check CSPACE_PASSPHRASE\n$/)
    const missing = await runCli(p.home, ['daemon'], { env: { CSPACE_PASSPHRASE: '' } })
    assert.match(missing.stderr, /is encrypted; set CSPACE_PASSPHRASE/)
    const d = await startDaemon(p.home, [], { env })
    assert.ok(d.addresses[0].endsWith(parseUserId(p.userId).peerId.toString()))
    await d.stop()
  })

  test('a damaged key file is reported, not replaced', async () => {
    const dir = tempDir()
    const path = join(dir, 'identity.key')
    writeFileSync(path, '{"v":1,"type":"Ed25519","pub":"AAAA","key":"garbage"}')
    assert.throws(() => readKeyFile(path), KeyFileCorrupt)
    writeFileSync(path, 'not json')
    assert.throws(() => readKeyFile(path), KeyFileCorrupt)
    // truncated, and over the size a key file can have (read no further than its size)
    writeFileSync(path, '{"v":1,"type":"Ed25519","pub":"AA')
    assert.throws(() => readKeyFile(path), /not JSON/)
    writeFileSync(path, JSON.stringify({ v: 1, type: 'Ed25519', pub: 'A'.repeat(100 * 1024) }))
    assert.throws(() => readKeyFile(path), /too large/)
  })

  test('a user ID whose RSA key has a public exponent longer than 32 bits is refused; 65537 and 32-bit ones are not', async () => {
    // RSA-2048: a user ID of RSA-3072 with so long an exponent is over the length limit already
    const { key } = rsaKeyWithLongExponent(2048)
    assert.throws(() => parseUserId(userIdFromPublicKey(key).text), (err: Error) => err instanceof InvalidUserId && /its key is refused: its RSA public exponent has 2048 bits \(at most 32\)/.test(err.message))
    const usual = await generateKeyPair('RSA', 2048)
    assert.equal(costlyKeyReason(usual.publicKey), undefined)
    const e32 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0xffffffff }).publicKey.export({ format: 'jwk' })
    assert.equal(costlyKeyReason({ type: 'RSA', jwk: e32 } as unknown as PublicKey), undefined, 'the longest Node and OpenSSL generate')
    assert.equal(costlyKeyReason({ type: 'RSA', jwk: { ...e32, e: Buffer.from([1, 0, 0, 0, 1]).toString('base64url') } } as unknown as PublicKey), 'its RSA public exponent has 33 bits (at most 32)')
  })

  test('user IDs: round trip, and every kind of bad input is refused with the reason', async () => {
    const key = await generateKeyPair('Ed25519')
    const id = userIdFromPublicKey(key.publicKey)
    assert.ok(parseUserId(id.text).peerId.equals(id.peerId))
    assert.ok(parseUserId(`  ${id.text.toUpperCase()}\n`).peerId.equals(id.peerId), 'case and whitespace do not matter')
    const bad: Array<[string, RegExp]> = [
      ['', /must start with "cs1"/],
      ['hello', /must start with "cs1"/],
      [id.text.slice(0, -1), /checksum|too short|too few/],
      [id.text.slice(0, -1) + (id.text.endsWith('a') ? 'b' : 'a'), /checksum/],
      [id.text.replace(/.$/, '!'), /not base32/],
      [id.text + 'q', /too many|checksum/],
      ['cs1' + 'a'.repeat(5000), /too long/],
      ['cs1aaaa', /too short|checksum/]
    ]
    for (const [text, why] of bad) {
      assert.throws(() => parseUserId(text), (err: Error) => err instanceof InvalidUserId && why.test(err.message), `input ${JSON.stringify(text.slice(0, 20))}`)
    }
  })
})
