import { describe, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { operationHash, parseOperation, signOperation, verifyOperationSignatures, type SignedOperation, type UnsignedOperation } from '../../src/keyserver/operation.js'
import { applyOperation, emptyNameState, replayLog, type NameState } from '../../src/keyserver/name-log.js'
import { checkPin, type KeyPin } from '../../src/keyserver/client/key-pin.js'
import { BadSignature, InvalidOperation, InvalidUsername, NameTaken, StaleHead, UntrustworthyAnswer, UsernameNotFound, WrongKey } from '../../src/keyserver/errors.js'

interface K { key: PrivateKey, id: string }
async function newKey (): Promise<K> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: userIdFromPublicKey(key.publicKey).text }
}

const T0 = 1_700_000_000_000
let k1: K, k2: K, k3: K

/** Signs `fields` on top of `prev` (an operation or '' for the first). */
async function sign (fields: Omit<UnsignedOperation, 'prev'>, prev: SignedOperation | '', signer: K, oldSigner?: K): Promise<SignedOperation> {
  return await signOperation({ ...fields, prev: prev === '' ? '' : operationHash(prev) }, signer.key, oldSigner?.key)
}

/** register(k1) → update(k1) → rotate(k1→k2) → delete(k2) → register(k3), one day apart. */
async function fullChain (username = 'carol'): Promise<SignedOperation[]> {
  const day = 86_400_000
  const reg = await sign({ op: 'register', username, key: k1.id, displayName: 'Carol', timestamp: T0 }, '', k1)
  const upd = await sign({ op: 'update', username, key: k1.id, displayName: 'Carol C.', timestamp: T0 + day }, reg, k1)
  const rot = await sign({ op: 'rotate', username, key: k2.id, oldKey: k1.id, displayName: 'Carol C.', timestamp: T0 + 2 * day }, upd, k2, k1)
  const del = await sign({ op: 'delete', username, key: k2.id, displayName: '', timestamp: T0 + 3 * day }, rot, k2)
  const again = await sign({ op: 'register', username, key: k3.id, displayName: 'Not Carol', timestamp: T0 + 4 * day }, del, k3)
  return [reg, upd, rot, del, again]
}

async function rejects (p: Promise<unknown>, cls: new (...a: any[]) => Error, why: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.constructor.name}: ${err.message}`)
    assert.match(err.message, why)
    return true
  })
}

before(async () => { [k1, k2, k3] = await Promise.all([newKey(), newKey(), newKey()]) })

describe('signed operations', () => {
  test('signOperation and parseOperation round-trip through JSON, and the signature verifies', async () => {
    const op = await sign({ op: 'register', username: 'alice', key: k1.id, displayName: 'Alice Liddell' }, '', k1)
    assert.equal(op.v, 1)
    assert.match(op.nonce, /^[0-9a-f]{32}$/)
    assert.ok(Math.abs(op.timestamp - Date.now()) < 60_000)
    assert.equal('oldKey' in op, false)
    const parsed = parseOperation(JSON.parse(JSON.stringify(op)))
    assert.deepEqual(parsed, op)
    await verifyOperationSignatures(parsed)
    const rot = await sign({ op: 'rotate', username: 'alice', key: k2.id, oldKey: k1.id, displayName: '' }, op, k2, k1)
    assert.deepEqual(parseOperation(JSON.parse(JSON.stringify(rot))), rot)
    await verifyOperationSignatures(rot)
    assert.notEqual(operationHash(op), operationHash(rot))
    const again = await sign({ op: 'register', username: 'alice', key: k1.id, displayName: 'Alice Liddell' }, '', k1)
    assert.notEqual(again.nonce, op.nonce, 'a fresh nonce each time')
  })

  test('an RSA-2048 key signs and verifies a register, and its user ID fits the field', async () => {
    const key = await generateKeyPair('RSA', 2048)
    const id = userIdFromPublicKey(key.publicKey).text
    const op = await signOperation({ op: 'register', username: 'rsa-user', key: id, displayName: 'R', prev: '' }, key)
    const parsed = parseOperation(JSON.parse(JSON.stringify(op)))
    assert.deepEqual(parsed, op)
    const state = await applyOperation(emptyNameState('rsa-user'), parsed)
    assert.equal(state.key, id)
    assert.equal(state.head, operationHash(op))
    await rejects(applyOperation(emptyNameState('rsa-user'), { ...parsed, displayName: 'X' }), BadSignature, /signature does not verify/)
  })

  test('a rotation cannot be signed without the old key', async () => {
    await rejects(signOperation({ op: 'rotate', username: 'alice', key: k2.id, oldKey: k1.id, displayName: '', prev: '' }, k2.key), InvalidOperation, /signed by the old key too/)
  })

  test('parseOperation refuses what is not a well-formed operation, saying why', async () => {
    const good = JSON.parse(JSON.stringify(await sign({ op: 'update', username: 'alice', key: k1.id, displayName: 'A' }, '', k1))) as Record<string, unknown>
    const rot = JSON.parse(JSON.stringify(await sign({ op: 'rotate', username: 'alice', key: k2.id, oldKey: k1.id, displayName: '' }, '', k2, k1))) as Record<string, unknown>
    const withField = (o: Record<string, unknown>, k: string, v: unknown): Record<string, unknown> => ({ ...o, [k]: v })
    const without = (o: Record<string, unknown>, k: string): Record<string, unknown> => { const c = { ...o }; delete c[k]; return c }
    const cases: Array<[unknown, RegExp]> = [
      [null, /must be a JSON object/],
      [[good], /must be a JSON object/],
      ['{}', /must be a JSON object/],
      [withField(good, 'extra', 1), /unknown field "extra"/],
      [withField(good, 'v', 2), /"v" must be 1/],
      [withField(good, 'v', '1'), /"v" must be 1/],
      [withField(good, 'op', 'steal'), /"op" must be one of register, update, rotate, delete/],
      [withField(good, 'username', 7), /"username" must be a string/],
      [withField(good, 'username', 'a'.repeat(65)), /"username" is longer than 64/],
      [without(good, 'key'), /"key" must be a string/],
      [withField(good, 'key', 'cs1' + 'a'.repeat(1200)), /"key" is longer than 1200/],
      [withField(good, 'key', 'cs1abc'), /"key" is not a user ID/],
      [withField(good, 'key', k1.id.toUpperCase().replace('CS1', 'cs1')), /"key" must be a user ID in canonical form/],
      [withField(good, 'displayName', null), /"displayName" must be a string/],
      [withField(good, 'displayName', 'x'.repeat(65)), /"displayName" is longer than 64/],
      [withField(good, 'displayName', 'x'.repeat(129)), /"displayName" is longer than 128 characters/],
      [withField(good, 'displayName', 'bob\u0000'), /control or invisible formatting/],
      [withField(good, 'displayName', 'bob\u202e'), /control or invisible formatting/],
      [withField(good, 'displayName', 'Zoe\u0308'), /NFC/],
      [withField(good, 'timestamp', -1), /"timestamp" must be milliseconds/],
      [withField(good, 'timestamp', 1.5), /"timestamp" must be milliseconds/],
      [withField(good, 'timestamp', String(T0)), /"timestamp" must be milliseconds/],
      [withField(good, 'nonce', 'A'.repeat(32)), /"nonce" must be 32 lower-case hex/],
      [withField(good, 'nonce', 'a'.repeat(31)), /"nonce" must be 32 lower-case hex/],
      [withField(good, 'nonce', 'a'.repeat(33)), /"nonce" is longer than 32/],
      [withField(good, 'nonce', 5), /"nonce" must be a string/],
      [withField(good, 'prev', 'abc'), /"prev" must be empty or 64 lower-case hex/],
      [withField(good, 'prev', 'F'.repeat(64)), /"prev" must be empty or 64/],
      [withField(good, 'prev', 'f'.repeat(65)), /"prev" is longer than 64/],
      [withField(good, 'signature', 'not base64!'), /"signature" must be canonical, padded base64/],
      [withField(good, 'signature', ''), /"signature" must be canonical, padded base64/],
      [withField(good, 'signature', 'A'.repeat(1025)), /"signature" is longer than 1024/],
      [withField(good, 'oldKey', k2.id), /"oldKey" and "oldSignature" belong only to a rotate operation/],
      [withField(good, 'oldSignature', good.signature), /belong only to a rotate operation/],
      [withField(good, 'oldKey', null), /belong only to a rotate operation/],
      [without(rot, 'oldKey'), /"oldKey" must be a string/],
      [without(rot, 'oldSignature'), /"oldSignature" must be a string/],
      [withField(rot, 'oldSignature', '***'), /"oldSignature" must be canonical, padded base64/],
      [withField(rot, 'oldKey', k2.id), /a new key different from the old one/]
    ]
    for (const [raw, why] of cases) {
      assert.throws(() => parseOperation(raw), (err: Error) => {
        assert.ok(err instanceof InvalidOperation, `${err.constructor.name}: ${err.message}`)
        assert.equal(err.exitCode, 2)
        assert.match(err.message, /^invalid operation: /)
        assert.match(err.message, why)
        return true
      }, why.source)
    }
    assert.throws(() => parseOperation(withField(good, 'username', 'Alice')), InvalidUsername)
    assert.deepEqual(parseOperation(good), good, 'the unmodified operation parses')
  })
})

describe('applying operations', () => {
  test('each kind moves the state as the log rules say', async () => {
    const [reg, upd, rot, del, again] = await fullChain()
    let s = await applyOperation(emptyNameState('carol'), reg)
    assert.deepEqual(s, { username: 'carol', seq: 1, head: operationHash(reg), key: k1.id, displayName: 'Carol', updatedAt: T0 })
    s = await applyOperation(s, upd)
    assert.equal(s.displayName, 'Carol C.')
    assert.equal(s.key, k1.id)
    s = await applyOperation(s, rot)
    assert.equal(s.key, k2.id)
    s = await applyOperation(s, del)
    assert.equal(s.key, undefined)
    assert.equal(s.displayName, '')
    assert.equal(s.seq, 4)
    s = await applyOperation(s, again)
    assert.equal(s.key, k3.id)
    assert.equal(s.head, operationHash(again))
  })

  test('refusals: taken name, wrong key, stale head, missing or wrong signatures', async () => {
    const [reg, upd] = await fullChain()
    const held: NameState = await applyOperation(emptyNameState('carol'), reg)
    const other = await sign({ op: 'register', username: 'carol', key: k2.id, displayName: '' }, reg, k2)
    await rejects(applyOperation(held, other), NameTaken, /"carol" is taken/)
    const byOther = await sign({ op: 'update', username: 'carol', key: k2.id, displayName: 'mine now' }, reg, k2)
    await rejects(applyOperation(held, byOther), WrongKey, /does not hold "carol"/)
    const delByOther = await sign({ op: 'delete', username: 'carol', key: k2.id, displayName: '' }, reg, k2)
    await rejects(applyOperation(held, delByOther), WrongKey, /only its current key/)
    const stale = await sign({ op: 'update', username: 'carol', key: k1.id, displayName: 'x' }, '', k1)
    await rejects(applyOperation(held, stale), StaleHead, /"carol" changed since/)
    await rejects(applyOperation(held, { ...upd, prev: 'a'.repeat(64) }), StaleHead, /changed since/)
    // a rotation must come from the holding key, and carry its signature
    const rot = await sign({ op: 'rotate', username: 'carol', key: k2.id, oldKey: k1.id, displayName: '' }, reg, k2, k1)
    const noOld: SignedOperation = { ...rot }
    delete noOld.oldSignature
    await rejects(applyOperation(held, noOld), BadSignature, /old key's signature does not verify/)
    const forged = await sign({ op: 'rotate', username: 'carol', key: k2.id, oldKey: k1.id, displayName: '' }, reg, k2, k3)
    await rejects(applyOperation(held, forged), BadSignature, /old key's signature does not verify/)
    const newForged = await sign({ op: 'rotate', username: 'carol', key: k2.id, oldKey: k1.id, displayName: '' }, reg, k3, k1)
    await rejects(applyOperation(held, newForged), BadSignature, /new key's signature does not verify/)
    const notHolder = await sign({ op: 'rotate', username: 'carol', key: k3.id, oldKey: k2.id, displayName: '' }, reg, k3, k2)
    await rejects(applyOperation(held, notHolder), WrongKey, /does not hold/)
    // a field changed after signing breaks the signature
    await rejects(applyOperation(held, { ...upd, displayName: 'Mallory' }), BadSignature, /the key's signature does not verify/)
    await rejects(applyOperation(held, { ...upd, timestamp: upd.timestamp + 1 }), BadSignature, /does not verify/)
    await rejects(applyOperation(held, { ...upd, signature: reg.signature }), BadSignature, /does not verify/)
    await rejects(applyOperation(held, { ...rot, displayName: 'x' }), BadSignature, /new key's signature/)
    // a free name cannot be changed; an operation for another name is refused
    await rejects(applyOperation(emptyNameState('carol'), upd), StaleHead, /changed since/)
    await rejects(applyOperation(emptyNameState('carol'), { ...upd, prev: '' }), UsernameNotFound, /no user "carol"/)
    await rejects(applyOperation(emptyNameState('dave'), reg), InvalidOperation, /is for "carol", not "dave"/)
  })
})

describe('replaying a log', () => {
  test('register → update → rotate → delete → register by another key replays', async () => {
    const log = await fullChain()
    const r = await replayLog('carol', log)
    assert.equal(r.state.key, k3.id)
    assert.equal(r.state.seq, 5)
    assert.equal(r.state.displayName, 'Not Carol')
    assert.deepEqual(r.hashes, log.map(operationHash))
    assert.deepEqual(r.tenures, [
      { key: k1.id, fromSeq: 0, how: 'register', since: T0 },
      { key: k2.id, fromSeq: 2, how: 'rotate', since: T0 + 2 * 86_400_000 },
      { key: k3.id, fromSeq: 4, how: 'register', since: T0 + 4 * 86_400_000 }
    ])
    assert.deepEqual((await replayLog('carol', [])).state, emptyNameState('carol'))
  })

  test('a tampered, reordered, truncated-at-the-front or foreign log is untrustworthy, naming the entry', async () => {
    const log = await fullChain()
    const bad: Array<[SignedOperation[], RegExp]> = [
      [log.map((op, i) => i === 2 ? { ...op, displayName: 'Mallory' } : op), /entry 2 of "carol"'s log: .*does not verify/],
      [[log[0], log[2], log[1], log[3], log[4]], /entry 1 of "carol"'s log: .*changed since/],
      [[log[0], log[1], log[3], log[4]], /entry 2 of "carol"'s log/],
      [log.slice(1), /entry 0 of "carol"'s log/],
      [[log[0], log[1], log[2], log[4]], /entry 3 of "carol"'s log/]
    ]
    for (const [l, why] of bad) {
      await assert.rejects(replayLog('carol', l), (err: Error) => {
        assert.ok(err instanceof UntrustworthyAnswer, err.message)
        assert.equal(err.exitCode, 1)
        assert.match(err.message, why)
        assert.match(err.message, /do not trust it/)
        return true
      }, why.source)
    }
    await assert.rejects(replayLog('dave', log), /entry 0 of "dave"'s log: .*is for "carol"/)
  })
})

describe('key pins', () => {
  const pinAt = (log: SignedOperation[], seq: number, key: string): KeyPin => ({ url: 'http://ks', username: 'carol', key, seq, hash: operationHash(log[seq]) })
  const check = async (log: SignedOperation[], pin: KeyPin): Promise<ReturnType<typeof checkPin>> => checkPin(pin, log, await replayLog('carol', log))

  test('each way a log can move on from a pin is told apart', async () => {
    const log = await fullChain()
    const day = 86_400_000
    assert.deepEqual(await check(log.slice(0, 1), pinAt(log, 0, k1.id)), { kind: 'unchanged', displayName: 'Carol', head: { seq: 0, hash: operationHash(log[0]) }, repin: true })
    assert.deepEqual(await check(log.slice(0, 2), pinAt(log, 0, k1.id)), { kind: 'unchanged', displayName: 'Carol C.', head: { seq: 1, hash: operationHash(log[1]) }, repin: true })
    assert.deepEqual(await check(log.slice(0, 3), pinAt(log, 0, k1.id)), { kind: 'rotated', key: k2.id, at: T0 + 2 * day, rotations: 1, head: { seq: 2, hash: operationHash(log[2]) } })
    assert.deepEqual(await check(log.slice(0, 3), pinAt(log, 2, k2.id)), { kind: 'unchanged', displayName: 'Carol C.', head: { seq: 2, hash: operationHash(log[2]) }, repin: true })
    assert.deepEqual(await check(log.slice(0, 4), pinAt(log, 0, k1.id)), { kind: 'deleted', at: T0 + 3 * day, rotatedAway: true })
    assert.deepEqual(await check(log.slice(0, 4), pinAt(log, 2, k2.id)), { kind: 'deleted', at: T0 + 3 * day, rotatedAway: false })
    assert.deepEqual(await check(log, pinAt(log, 0, k1.id)), { kind: 'replaced', key: k3.id, at: T0 + 4 * day })
    assert.deepEqual(await check(log, pinAt(log, 2, k2.id)), { kind: 'replaced', key: k3.id, at: T0 + 4 * day })
    assert.equal((await check(log, pinAt(log, 4, k3.id))).kind, 'unchanged')
  })

  test('a pinned entry missing from the log, or with another hash, means history was rewritten', async () => {
    const log = await fullChain()
    const r = await replayLog('carol', log.slice(0, 2))
    assert.deepEqual(checkPin({ ...pinAt(log, 1, k1.id), hash: 'f'.repeat(64) }, log.slice(0, 2), r), { kind: 'rewritten' })
    assert.deepEqual(checkPin(pinAt(log, 2, k1.id), log.slice(0, 2), r), { kind: 'rewritten' }, 'the log is shorter than the pin')
    // another history for the same name, signed by an attacker: the pinned hash is not in it
    const forged = await sign({ op: 'register', username: 'carol', key: k3.id, displayName: 'Carol', timestamp: T0 }, '', k3)
    assert.deepEqual(await check([forged], pinAt(log, 0, k1.id)), { kind: 'rewritten' })
  })

  test('a delete then a register by the same key is unchanged; by the rotated-to key, rotated', async () => {
    const reg = await sign({ op: 'register', username: 'carol', key: k1.id, displayName: 'C', timestamp: T0 }, '', k1)
    const del = await sign({ op: 'delete', username: 'carol', key: k1.id, displayName: '', timestamp: T0 + 1 }, reg, k1)
    const back = await sign({ op: 'register', username: 'carol', key: k1.id, displayName: 'C again', timestamp: T0 + 2 }, del, k1)
    const log = [reg, del, back]
    assert.deepEqual(await check(log, pinAt(log, 0, k1.id)), { kind: 'unchanged', displayName: 'C again', head: { seq: 2, hash: operationHash(back) }, repin: true })
    const rot = await sign({ op: 'rotate', username: 'carol', key: k2.id, oldKey: k1.id, displayName: 'C', timestamp: T0 + 1 }, reg, k2, k1)
    const del2 = await sign({ op: 'delete', username: 'carol', key: k2.id, displayName: '', timestamp: T0 + 2 }, rot, k2)
    const back2 = await sign({ op: 'register', username: 'carol', key: k2.id, displayName: 'C', timestamp: T0 + 3 }, del2, k2)
    const log2 = [reg, rot, del2, back2]
    assert.deepEqual(await check(log2, pinAt(log2, 0, k1.id)), { kind: 'rotated', key: k2.id, at: T0 + 3, rotations: 1, head: { seq: 3, hash: operationHash(back2) } })
  })

  test('a key the owner rotated away from is never taken back silently', async () => {
    const reg = await sign({ op: 'register', username: 'carol', key: k1.id, displayName: 'C', timestamp: T0 }, '', k1)
    const rot = await sign({ op: 'rotate', username: 'carol', key: k2.id, oldKey: k1.id, displayName: 'C', timestamp: T0 + 1 }, reg, k2, k1)
    const del = await sign({ op: 'delete', username: 'carol', key: k2.id, displayName: '', timestamp: T0 + 2 }, rot, k2)
    const thief = await sign({ op: 'register', username: 'carol', key: k1.id, displayName: 'C', timestamp: T0 + 3 }, del, k1)
    const log = [reg, rot, del, thief]
    assert.deepEqual(await check(log, pinAt(log, 0, k1.id)), { kind: 'replaced', key: k1.id, at: T0 + 3 }, 'the pinned key, re-registered after its owner left it')
    const back = await sign({ op: 'rotate', username: 'carol', key: k1.id, oldKey: k2.id, displayName: 'C', timestamp: T0 + 2 }, rot, k1, k2)
    const log2 = [reg, rot, back]
    const c = await check(log2, pinAt(log2, 0, k1.id))
    assert.equal(c.kind, 'unchanged')
    assert.equal((c as { repin: boolean }).repin, false, 'the pin does not move past rotations, even back to the pinned key')
  })

  test('a pin whose key did not hold the name at its entry is a rewritten history', async () => {
    const reg = await sign({ op: 'register', username: 'carol', key: k1.id, displayName: 'C', timestamp: T0 }, '', k1)
    const log = [reg]
    assert.deepEqual(await check(log, pinAt(log, 0, k2.id)), { kind: 'rewritten' })
  })

  test('a rotation is dated by the rotation, not by a later display-name update', async () => {
    const reg = await sign({ op: 'register', username: 'carol', key: k1.id, displayName: 'C', timestamp: T0 }, '', k1)
    const rot = await sign({ op: 'rotate', username: 'carol', key: k2.id, oldKey: k1.id, displayName: 'C', timestamp: T0 + 1000 }, reg, k2, k1)
    const upd = await sign({ op: 'update', username: 'carol', key: k2.id, displayName: 'C2', timestamp: T0 + 9000 }, rot, k2)
    const log = [reg, rot, upd]
    const c = await check(log, pinAt(log, 0, k1.id))
    assert.equal(c.kind, 'rotated')
    assert.equal((c as { at: number }).at, T0 + 1000, '`contacts verify` prints "KEY CHANGED on <at>"')
  })
})
