import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { cleanupAll } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import { headOf, http, newKeyUser, postOperation, register, startKeyServer, type KeyUser, type RunningKeyServer } from '../helpers/keyserver.js'
import { replayLog } from '../../src/keyserver/name-log.js'
import { operationHash, signOperation, type SignedOperation } from '../../src/keyserver/operation.js'
import { fingerprint, parseUserId } from '../../src/identity/index.js'

/**
 * The key server's HTTP API, against a real `cspace keyserver` process, once
 * with its SQLite store and once with a private PostgreSQL server: the same
 * tests, the same answers.
 */
for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`key server API (${kind})`, () => {
    let pgServer: PostgresServer | undefined
    let server: RunningKeyServer
    let url: string

    before(async () => {
      let db = join(tempDir(), 'keyserver.db')
      if (kind === 'postgres') {
        pgServer = await startPostgres()
        db = await pgServer.createDatabase()
      }
      server = await startKeyServer(db, ['--requests-per-minute', '1000000', '--writes-per-minute', '1000000'])
      url = server.url
    })
    after(async () => {
      await server?.stop()
      await pgServer?.stop()
      await cleanupAll()
    })

    /** Everything stored about these names, to show a refused request changed nothing. */
    const snapshot = async (...names: string[]): Promise<string> =>
      JSON.stringify(await Promise.all(names.map(async n => (await http(url, 'GET', `/v1/users/${n}/log?limit=200`)).body)))

    test('register, then look up by name, by fingerprint, and read the log: every answer verifies', async () => {
      const alice = await newKeyUser()
      const r = await register(url, alice, 'alice', 'Alice Liddell')
      assert.equal(r.status, 201, JSON.stringify(r.body))
      assert.equal(r.body.key, alice.id)
      const print = fingerprint(parseUserId(alice.id).publicKey)
      assert.equal(r.body.fingerprint, print)

      const got = await http(url, 'GET', '/v1/users/alice')
      assert.equal(got.status, 200)
      assert.deepEqual(got.body, r.body)
      const byPrint = await http(url, 'GET', `/v1/keys/${print.replaceAll(' ', '')}`)
      assert.deepEqual(byPrint.body.users.map((u: { username: string }) => u.username), ['alice'])

      const log = await http(url, 'GET', '/v1/users/alice/log')
      assert.equal(log.body.operations.length, 1)
      assert.equal(log.body.next, null)
      const replayed = await replayLog('alice', log.body.operations)
      assert.equal(replayed.state.key, alice.id)
      assert.equal(replayed.state.displayName, 'Alice Liddell')
      assert.equal(operationHash(got.body.operation), replayed.state.head, 'the entry rests on the head of its log')
      assert.equal((await http(url, 'GET', '/v1/users/nobody')).status, 404)
    })

    test('invalid usernames get 400 INVALID_USERNAME and store nothing', async () => {
      const u = await newKeyUser()
      for (const name of ['ab', 'Alice', 'a--b', '-abc', 'abc.', 'a'.repeat(33), 'al!ce', 'al ice', 'ålice']) {
        const op = await signOperation({ op: 'register', username: 'placeholder', key: u.id, displayName: '', prev: '' }, u.key)
        const r = await http(url, 'POST', `/v1/users/${encodeURIComponent(name)}/log`, { ...op, username: name })
        assert.equal(r.status, 400, name)
        assert.ok(['INVALID_USERNAME', 'INVALID_REQUEST'].includes(r.body.error.code), `${name}: ${JSON.stringify(r.body)}`)
        assert.equal(typeof r.body.error.message, 'string')
      }
      assert.equal((await http(url, 'GET', '/v1/users?prefix=al&limit=100')).body.users.length, 1, 'only alice')
    })

    test('first come, first served: taken and confusable names are refused; a key holds one name', async () => {
      const bob = await newKeyUser()
      const before = await snapshot('alice')
      const taken = await postOperation(url, { op: 'register', username: 'alice', key: bob.id, displayName: '', prev: '' }, bob)
      assert.equal(taken.status, 409)
      assert.equal(taken.body.error.code, 'STALE_HEAD', 'a register naming the empty head of a held name')
      const takenFresh = await postOperation(url, { op: 'register', username: 'alice', key: bob.id, displayName: '', prev: await headOf(url, 'alice') }, bob)
      assert.equal(takenFresh.body.error.code, 'NAME_TAKEN')
      for (const look of ['a1ice', 'al1ce', 'aiice']) {
        const r = await register(url, bob, look)
        assert.equal(r.status, 409, look)
        assert.equal(r.body.error.code, 'NAME_CONFUSABLE')
        assert.match(r.body.error.message, /"alice"/)
      }
      assert.equal(await snapshot('alice'), before)
      assert.equal((await register(url, bob, 'bob.smith')).status, 201)
      assert.equal((await register(url, await newKeyUser(), 'bob_smith')).body.error.code, 'NAME_CONFUSABLE')
      const second = await register(url, bob, 'bobby')
      assert.equal(second.status, 409)
      assert.equal(second.body.error.code, 'KEY_HAS_NAME')
      assert.equal((await http(url, 'GET', '/v1/users/bobby')).status, 404)
    })

    test('bad signatures, stale timestamps and replayed nonces are refused, and nothing changes', async () => {
      const carol = await newKeyUser()
      const mallory = await newKeyUser()
      assert.equal((await register(url, carol, 'carol')).status, 201)
      const before = await snapshot('carol', 'dave')
      const prev = await headOf(url, 'carol')

      const forged = await signOperation({ op: 'update', username: 'carol', key: carol.id, displayName: 'pwned', prev }, mallory.key)
      assert.equal((await http(url, 'POST', '/v1/users/carol/log', forged)).body.error.code, 'BAD_SIGNATURE')
      const good = await signOperation({ op: 'update', username: 'carol', key: carol.id, displayName: 'Carol', prev }, carol.key)
      const tampered = { ...good, displayName: 'Carol!' }
      assert.equal((await http(url, 'POST', '/v1/users/carol/log', tampered)).status, 403)
      const wrongKey = await postOperation(url, { op: 'update', username: 'carol', key: mallory.id, displayName: 'x', prev }, mallory)
      assert.equal(wrongKey.body.error.code, 'WRONG_KEY')

      for (const skew of [-10 * 60_000, 10 * 60_000]) {
        const r = await postOperation(url, { op: 'update', username: 'carol', key: carol.id, displayName: 'late', prev, timestamp: Date.now() + skew }, carol)
        assert.equal(r.status, 400)
        assert.equal(r.body.error.code, 'STALE_TIMESTAMP')
      }
      assert.equal(await snapshot('carol', 'dave'), before)

      assert.equal((await http(url, 'POST', '/v1/users/carol/log', good)).status, 200)
      const replay = await http(url, 'POST', '/v1/users/carol/log', good)
      assert.equal(replay.status, 409)
      assert.equal(replay.body.error.code, 'REPLAYED_NONCE')
      const dave = await newKeyUser()
      const reused = await postOperation(url, { op: 'register', username: 'dave', key: dave.id, displayName: '', prev: '', nonce: good.nonce }, dave)
      assert.equal(reused.body.error.code, 'REPLAYED_NONCE', 'a nonce is spent for every name')
      assert.equal((await http(url, 'GET', '/v1/users/dave')).status, 404)
      const stale = await postOperation(url, { op: 'update', username: 'carol', key: carol.id, displayName: 'old head', prev }, carol)
      assert.equal(stale.body.error.code, 'STALE_HEAD')
      assert.equal((await http(url, 'GET', '/v1/users/carol')).body.displayName, 'Carol')
    })

    test('malformed, truncated, oversized, mistyped and unknown-field bodies get a 4xx JSON error', async () => {
      const erin = await newKeyUser()
      const op = await signOperation({ op: 'register', username: 'erin', key: erin.id, displayName: '', prev: '' }, erin.key)
      const text = JSON.stringify(op)
      const cases: Array<[string, unknown, number, string, Record<string, string>?]> = [
        ['malformed', '{"v": 1,,}', 400, 'MALFORMED_JSON'],
        ['truncated', text.slice(0, text.length / 2), 400, 'MALFORMED_JSON'],
        ['empty', '', 400, 'MALFORMED_JSON'],
        ['not an object', '[1,2]', 400, 'INVALID_REQUEST'],
        ['oversized', JSON.stringify({ ...op, displayName: 'x'.repeat(20_000) }), 413, 'BODY_TOO_LARGE'],
        ['unknown field', { ...op, admin: true }, 400, 'INVALID_REQUEST'],
        ['mistyped', { ...op, timestamp: String(op.timestamp) }, 400, 'INVALID_REQUEST'],
        ['missing field', { ...op, nonce: undefined }, 400, 'INVALID_REQUEST'],
        ['other name in path', op, 400, 'INVALID_OPERATION'],
        ['not JSON', 'v=1', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'application/x-www-form-urlencoded' }],
        ['plain text', 'hello', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }],
        ['unpadded signature', { ...op, signature: op.signature.replace(/=+$/, '') }, 400, 'INVALID_OPERATION'],
        ['year 10000', { ...op, timestamp: 253_402_300_800_000 }, 400, 'INVALID_OPERATION']
      ]
      for (const [what, body, status, code, headers] of cases) {
        const path = what === 'other name in path' ? '/v1/users/erin2/log' : '/v1/users/erin/log'
        const r = await http(url, 'POST', path, body, headers)
        assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`)
        assert.equal(r.body.error.code, code, what)
        assert.ok(r.body.error.message.length > 0 && !r.body.error.message.includes('\n'), what)
      }
      assert.equal((await http(url, 'GET', '/v1/users/erin')).status, 404)
      assert.equal((await http(url, 'POST', '/v1/users/erin/log', op)).status, 201, 'the server kept serving; the good body still works')
      assert.equal((await http(url, 'GET', '/v1/users?prefix=x&limit=1000')).status, 400)
      assert.equal((await http(url, 'GET', '/v1/users?prefix=x&bogus=1')).status, 400)
      assert.equal((await http(url, 'GET', '/v1/nothing')).body.error.code, 'NO_SUCH_ROUTE')
      for (const path of ['/v1/users?prefix=a&after=%00', '/v1/users?prefix=a&after=ALICE', '/v1/users/%ff%fe', `/v1/users/${'%ff'.repeat(2000)}`]) {
        const r = await http(url, 'GET', path)
        assert.equal(r.status, 400, `${path.slice(0, 40)}: ${JSON.stringify(r.body).slice(0, 200)}`)
        assert.ok(['INVALID_REQUEST', 'BAD_REQUEST'].includes(r.body.error.code), path.slice(0, 40))
        assert.ok(JSON.stringify(r.body).length < 500, 'the answer does not echo the input back')
      }
    })

    test('rotation needs the old key and the new one; the log shows both keys', async () => {
      const old = await newKeyUser()
      const fresh = await newKeyUser()
      assert.equal((await register(url, old, 'frank')).status, 201)
      const prev = await headOf(url, 'frank')
      const newOnly = await signOperation({ op: 'rotate', username: 'frank', key: fresh.id, oldKey: old.id, displayName: '', prev }, fresh.key, fresh.key)
      assert.equal((await http(url, 'POST', '/v1/users/frank/log', newOnly)).body.error.code, 'BAD_SIGNATURE')
      const { oldSignature: _, ...unsignedByOld } = newOnly
      assert.equal((await http(url, 'POST', '/v1/users/frank/log', unsignedByOld)).body.error.code, 'INVALID_OPERATION')
      const ok = await postOperation(url, { op: 'rotate', username: 'frank', key: fresh.id, oldKey: old.id, displayName: '', prev }, fresh, old)
      assert.equal(ok.status, 200, JSON.stringify(ok.body))
      assert.equal((await http(url, 'GET', '/v1/users/frank')).body.key, fresh.id)
      const oldPrint = fingerprint(parseUserId(old.id).publicKey).replaceAll(' ', '')
      assert.equal((await http(url, 'GET', `/v1/keys/${oldPrint}`)).body.error.code, 'KEY_NOT_FOUND')
      const log = (await http(url, 'GET', '/v1/users/frank/log')).body.operations as SignedOperation[]
      const { tenures } = await replayLog('frank', log)
      assert.deepEqual(tenures.map(t => [t.key, t.how]), [[old.id, 'register'], [fresh.id, 'rotate']])
      assert.equal((await register(url, old, 'frank2')).status, 201, 'the old key is free to hold a name again')
    })

    test('delete keeps the history public and frees the name for anyone', async () => {
      const gina = await newKeyUser()
      const other = await newKeyUser()
      assert.equal((await register(url, gina, 'gina')).status, 201)
      const wrong = await postOperation(url, { op: 'delete', username: 'gina', key: other.id, displayName: '', prev: await headOf(url, 'gina') }, other)
      assert.equal(wrong.body.error.code, 'WRONG_KEY')
      const del = await postOperation(url, { op: 'delete', username: 'gina', key: gina.id, displayName: '', prev: await headOf(url, 'gina') }, gina)
      assert.equal(del.status, 200)
      assert.equal(del.body.key, null)
      const gone = await http(url, 'GET', '/v1/users/gina')
      assert.equal(gone.status, 410)
      assert.equal(gone.body.error.code, 'USERNAME_DELETED')
      assert.deepEqual((await http(url, 'GET', '/v1/users?prefix=gina')).body.users, [])
      assert.equal((await register(url, other, 'gina')).status, 201)
      const log = (await http(url, 'GET', '/v1/users/gina/log')).body.operations as SignedOperation[]
      assert.deepEqual(log.map(o => o.op), ['register', 'delete', 'register'])
      assert.equal((await replayLog('gina', log)).state.key, other.id)
    })

    test('prefix search and logs come a page at a time, in order, without repeats', async () => {
      const users: KeyUser[] = await Promise.all(Array.from({ length: 25 }, newKeyUser))
      await Promise.all(users.map(async (u, i) => assert.equal((await register(url, u, `pg-${String(i).padStart(2, '0')}`)).status, 201)))
      const seen: string[] = []
      let after = ''
      for (let page = 0; page < 10; page++) {
        const r = await http(url, 'GET', `/v1/users?prefix=pg-&limit=10&after=${after}`)
        seen.push(...r.body.users.map((u: { username: string }) => u.username))
        if (r.body.next == null) break
        after = r.body.next
      }
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `pg-${String(i).padStart(2, '0')}`))
      assert.deepEqual((await http(url, 'GET', '/v1/users?prefix=pg_')).body.users, [], '"_" is a character, not a wildcard')

      const h = users[0]
      for (let i = 0; i < 4; i++) {
        assert.equal((await postOperation(url, { op: 'update', username: 'pg-00', key: h.id, displayName: `v${i}`, prev: await headOf(url, 'pg-00') }, h)).status, 200)
      }
      const p1 = await http(url, 'GET', '/v1/users/pg-00/log?limit=2')
      const p2 = await http(url, 'GET', `/v1/users/pg-00/log?limit=2&from=${p1.body.next as number}`)
      const p3 = await http(url, 'GET', `/v1/users/pg-00/log?limit=2&from=${p2.body.next as number}`)
      assert.deepEqual([p1.body.next, p2.body.next, p3.body.next], [2, 4, null])
      const all = [...p1.body.operations, ...p2.body.operations, ...p3.body.operations] as SignedOperation[]
      assert.equal((await replayLog('pg-00', all)).state.displayName, 'v3')
    })

    test('health, OpenAPI document and structured logs', async () => {
      const health = await http(url, 'GET', '/health')
      assert.deepEqual(health.body, { status: 'ok', store: kind })
      const doc = await http(url, 'GET', '/openapi.json')
      assert.equal(doc.body.openapi.startsWith('3.'), true)
      for (const path of ['/v1/users/{username}/log', '/v1/users/{username}', '/v1/users', '/v1/keys/{fingerprint}', '/health']) {
        assert.ok(doc.body.paths[path] != null, path)
      }
      assert.ok(doc.body.components.schemas.SignedOperation != null)
      const accepted = server.logs().filter(l => l.msg === 'log entry accepted')
      assert.ok(accepted.some(l => l.op === 'rotate' && l.username === 'frank'), 'writes are logged with what they did')
      assert.ok(server.logs().every(l => typeof l.level === 'number' && typeof l.time === 'number'))
    })
  })
}
