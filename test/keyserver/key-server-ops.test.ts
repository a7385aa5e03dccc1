import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { statSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { cleanupAll, runCli, spawnCspace } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { waitFor } from '../helpers/wait.js'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import { headOf, http, newKeyUser, postOperation, register, startKeyServer } from '../helpers/keyserver.js'
import { replayLog } from '../../src/keyserver/name-log.js'
import { signOperation } from '../../src/keyserver/operation.js'

const UNLIMITED = ['--requests-per-minute', '1000000', '--writes-per-minute', '1000000']

describe('key server operations', () => {
  let pgServer: PostgresServer
  before(async () => { pgServer = await startPostgres() })
  after(async () => {
    await pgServer?.stop()
    await cleanupAll()
  })

  test('per-IP rate limits answer 429 with a JSON error; health is not limited', async () => {
    const server = await startKeyServer(join(tempDir(), 'ks.db'), ['--writes-per-minute', '3', '--requests-per-minute', '8'])
    const users = await Promise.all(Array.from({ length: 4 }, newKeyUser))
    for (const [i, u] of users.slice(0, 3).entries()) assert.equal((await postOperation(server.url, { op: 'register', username: `rl-${i}`, key: u.id, displayName: '', prev: '' }, u)).status, 201)
    const limited = await postOperation(server.url, { op: 'register', username: 'rl-3', key: users[3].id, displayName: '', prev: '' }, users[3])
    assert.equal(limited.status, 429)
    assert.equal(limited.body.error.code, 'RATE_LIMITED')
    assert.ok(Number(limited.headers.get('retry-after')) > 0)
    const reads = []
    for (let i = 0; i < 10; i++) reads.push((await http(server.url, 'GET', '/v1/users/rl-0')).status)
    assert.deepEqual(reads.slice(0, 8), Array(8).fill(200))
    assert.deepEqual(reads.slice(8), [429, 429])
    assert.equal((await http(server.url, 'GET', '/health')).status, 200)
    assert.equal(await server.stop(), 0)
  })

  test('behind a proxy, the client address is the one the trusted proxy saw, not what the client claims', async () => {
    const server = await startKeyServer(join(tempDir(), 'ks.db'), ['--trust-proxy', '1', '--requests-per-minute', '3'])
    // our proxy appends the address it saw (9.9.9.9); the client made up the rest
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await http(server.url, 'GET', '/v1/users/nobody', undefined, { 'x-forwarded-for': `10.0.0.${i}, 9.9.9.9` })).status)
    assert.deepEqual(statuses, [404, 404, 404, 429])
    assert.equal((await http(server.url, 'GET', '/v1/users/nobody', undefined, { 'x-forwarded-for': '9.9.9.10' })).status, 404, 'another client has its own budget')
    assert.equal(await server.stop(), 0)
    for (const proxies of ['everyone', '10.0.0.0/33', '10.0.0.300', '1:2:3', '::1/129']) {
      const bad = await runCli(tempDir(), ['keyserver', '--host', '127.0.0.1', '--port', '0', '--trust-proxy', proxies])
      assert.equal(bad.code, 2, proxies)
      assert.equal(bad.stderr, `cspace: --trust-proxy ${JSON.stringify(proxies)}: give the proxies' addresses or CIDRs, comma-separated (e.g. 10.0.0.0/8), or a hop count\n`)
    }
    // an address this machine does not have
    const elsewhere = await runCli(tempDir(), ['keyserver', '--host', '192.0.2.1', '--port', '0'])
    assert.equal(elsewhere.code, 2)
    assert.equal(elsewhere.stderr, 'cspace: --host 192.0.2.1 is not an address of this machine; give one of its addresses, or 0.0.0.0 for all\n')
  })

  test('a body trickled in is cut off, a connection that sends nothing is closed, and the server keeps serving', async () => {
    const server = await startKeyServer(join(tempDir(), 'ks.db'), UNLIMITED)
    const { port } = new URL(server.url)
    const socket = connect(Number(port), '127.0.0.1')
    await once(socket, 'connect')
    socket.on('error', () => {})
    // and one that sends nothing at all (read, so that the server's close is seen)
    const silent = connect(Number(port), '127.0.0.1').on('error', () => {})
    silent.resume()
    socket.write('POST /v1/users/slow/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{')
    let answer = ''
    socket.on('data', (b: Buffer) => { answer += b.toString() })
    const started = Date.now()
    await waitFor('the server to give up on the request', () => socket.destroyed || socket.readableEnded, 30_000, 100)
    assert.ok(Date.now() - started < 25_000)
    assert.match(answer, /^HTTP\/1.1 408/)
    await waitFor('the server to close the silent connection', () => silent.destroyed || silent.readableEnded, 30_000, 100)
    assert.ok(Date.now() - started < 25_000)
    assert.equal((await http(server.url, 'GET', '/health')).status, 200)
    assert.equal(await server.stop(), 0)
  })

  test('SIGTERM while the server starts (its store still opening) exits 0 with a log line, not killed by the signal', async () => {
    // a "PostgreSQL" that accepts and never answers holds the start at opening the store
    const silent = createServer((socket) => { socket.on('error', () => {}) })
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    let reached = false
    silent.on('connection', () => { reached = true })
    try {
      const proc = spawnCspace(['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', `postgres://u@127.0.0.1:${(silent.address() as AddressInfo).port}/x`], { home: tempDir() })
      let out = ''
      proc.stdout?.on('data', (b: Buffer) => { out += b.toString() })
      const exited = once(proc, 'exit')
      await waitFor('the key server to open its store', () => reached)
      proc.kill('SIGTERM')
      const [code, signal] = await exited as [number | null, string | null]
      assert.deepEqual([code, signal], [0, null])
      assert.equal(JSON.parse(out.trim().split('\n').at(-1) ?? '').event, 'keyserver-stopped')
    } finally {
      silent.close()
    }
  })

  test('SIGTERM lets a request in flight finish, then exits 0; a restart serves everything stored', async () => {
    const db = join(tempDir(), 'ks.db')
    const server = await startKeyServer(db, UNLIMITED)
    const u = await newKeyUser()
    assert.equal((await register(server.url, u, 'kept', 'Kept')).status, 201)
    // a registration whose body is still arriving when the signal comes
    const late = await newKeyUser()
    const body = JSON.stringify(await signOperation({ op: 'register', username: 'late', key: late.id, displayName: '', prev: '' }, late.key))
    const { port } = new URL(server.url)
    const socket = connect(Number(port), '127.0.0.1')
    await once(socket, 'connect')
    let answer = ''
    socket.on('data', (b: Buffer) => { answer += b.toString() })
    socket.write(`POST /v1/users/late/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 40)}`)
    await waitFor('the server to see the request', () => server.logs().some(l => l.msg === 'incoming request' && (l.req as { url?: string })?.url === '/v1/users/late/log'))
    const exit = server.signal('SIGTERM')
    await waitFor('the stopping log line', () => server.logs().some(l => l.event === 'keyserver-stopping'))
    socket.end(body.slice(40))
    assert.equal(await exit, 0)
    assert.match(answer, /^HTTP\/1.1 201/, 'the request in flight was answered')
    assert.ok(server.logs().some(l => l.event === 'keyserver-stopped'))

    const again = await startKeyServer(db, UNLIMITED)
    assert.equal((await http(again.url, 'GET', '/v1/users/kept')).body.displayName, 'Kept')
    assert.equal((await http(again.url, 'GET', '/v1/users/late')).body.key, late.id)
    assert.equal(await again.stop(), 0)
  })

  for (const kind of ['sqlite', 'postgres'] as const) {
    test(`two key server instances on one ${kind} store: races end with one winner and an intact log`, async () => {
      const db = kind === 'sqlite' ? join(tempDir(), 'shared.db') : await pgServer.createDatabase()
      const [a, b] = await Promise.all([startKeyServer(db, UNLIMITED), startKeyServer(db, UNLIMITED)])
      const names = Array.from({ length: 20 }, (_, i) => `race-${i}`)
      const results = await Promise.all(names.map(async (name) => {
        const [x, y] = await Promise.all([newKeyUser(), newKeyUser()])
        const [ra, rb] = await Promise.all([register(a.url, x, name), register(b.url, y, name)])
        return [ra.status, rb.status].sort()
      }))
      for (const r of results) assert.deepEqual(r, [201, 409])
      for (const name of names) {
        const log = (await http(b.url, 'GET', `/v1/users/${name}/log`)).body.operations
        assert.equal(log.length, 1, name)
        await replayLog(name, log)
      }

      const owner = await newKeyUser()
      assert.equal((await register(a.url, owner, 'shared')).status, 201)
      assert.equal((await http(b.url, 'GET', '/v1/users/shared')).body.key, owner.id, 'written on one, read on the other')
      const prev = await headOf(a.url, 'shared')
      const [u1, u2] = await Promise.all([
        postOperation(a.url, { op: 'update', username: 'shared', key: owner.id, displayName: 'one', prev }, owner),
        postOperation(b.url, { op: 'update', username: 'shared', key: owner.id, displayName: 'two', prev }, owner)
      ])
      assert.deepEqual([u1.status, u2.status].sort(), [200, 409])
      assert.equal([u1, u2].find(u => u.status === 409)?.body.error.code, 'STALE_HEAD')
      const log = (await http(a.url, 'GET', '/v1/users/shared/log')).body.operations
      assert.equal((await replayLog('shared', log)).state.seq, 2)
      assert.deepEqual(await Promise.all([a.stop(), b.stop()]), [0, 0])
    })
  }

  test('a store in a directory that does not exist yet: the directory is made, private', async () => {
    const db = join(tempDir(), 'var', 'lib', 'cspace', 'keys.db')
    const server = await startKeyServer(db)
    assert.equal((await http(server.url, 'GET', '/health')).status, 200)
    assert.equal(await server.stop(), 0)
    assert.ok(statSync(db).isFile())
    assert.equal(statSync(dirname(db)).mode & 0o777, 0o700)
  })

  test('a store that cannot be opened stops the server at start with one line', async () => {
    const home = tempDir()
    const bad = await runCli(home, ['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', 'ftp://example.org/x'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^cspace: --db "ftp:\/\/example.org\/x": give a file path/)
    // a mistyped scheme still carries a password: masked as in the log
    for (const typo of ['pg://ks:SECRET6@127.0.0.1/keys', 'postgress://ks:SECRET6@127.0.0.1/keys', 'postgres:/ks:SECRET6@127.0.0.1/keys']) {
      const r = await runCli(home, ['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', typo])
      assert.equal(r.code, 2, typo)
      assert.match(r.stderr, /^cspace: --db "[a-z]+:\/\/?ks:\*\*\*@127.0.0.1\/keys": give a file path/)
      assert.ok(!r.stderr.includes('SECRET6'), typo)
    }
    const down = await runCli(home, ['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', 'postgres://u:secret@127.0.0.1:1/x'])
    assert.equal(down.code, 1)
    assert.match(down.stderr, /^cspace: cannot open the key server's store postgres:\/\/u:\*\*\*@127.0.0.1:1\/x: .*ECONNREFUSED/)
    assert.ok(!down.stderr.includes('secret'), 'the password is never printed')
    // a server that asks for a password, and none given (the docs' PGPASSWORD forgotten): one line, and the process ends
    const withPassword = await pgServer.createPasswordDatabase('pw-s3cret')
    const noPassword = await runCli(home, ['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', withPassword], { timeoutMs: 20_000 })
    assert.equal(noPassword.code, 1, noPassword.stderr)
    assert.equal(noPassword.stderr, `cspace: cannot open the key server's store ${withPassword}: PostgreSQL asks for a password and none was given; put it in the URL or set PGPASSWORD\n`)
    // a signal after the start failed (pg's stray socket keeps the process a moment) does not make it a clean stop
    const failing = spawnCspace(['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', withPassword], { home })
    let failingErr = ''
    failing.stderr?.on('data', (b: Buffer) => { failingErr += b.toString() })
    const failed = once(failing, 'exit')
    await waitFor('the start to fail', () => failingErr.includes('none was given') || failing.exitCode != null)
    failing.kill('SIGTERM')
    assert.deepEqual((await failed)[0], 1)
    // sslmode=require is what pg checks as verify-full: said in one line, not pg's ten-line warning (this server has no TLS)
    const ssl = await runCli(home, ['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', `${withPassword}?sslmode=require`], { env: { PGPASSWORD: 'pw-s3cret' }, timeoutMs: 20_000 })
    assert.equal(ssl.code, 1, ssl.stderr)
    assert.match(ssl.stderr, /^cspace: sslmode=require is checked as verify-full by this PostgreSQL client: the server's certificate must be trusted, for its host name\ncspace: cannot open the key server's store [^\n]*sslmode=require: [^\n]*SSL[^\n]*\n$/)
    const given = await startKeyServer(withPassword, UNLIMITED, { PGPASSWORD: 'pw-s3cret' })
    assert.equal((await http(given.url, 'GET', '/health')).status, 200)
    assert.equal(await given.stop(), 0)
    writeFileSync(join(home, 'a-file'), '')
    const missing = await runCli(home, ['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', join(home, 'a-file', 'dir', 'ks.db')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^cspace: cannot open the key server's store .*ENOTDIR/)
    assert.equal(missing.stderr.trim().split('\n').length, 1)
    const profileDb = await runCli(home, ['init'])
    assert.equal(profileDb.code, 0)
    const foreign = await runCli(home, ['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', join(home, 'cspace.db')])
    assert.equal(foreign.code, 1)
    assert.match(foreign.stderr, /is not a cspace key server database/)
  })
})
