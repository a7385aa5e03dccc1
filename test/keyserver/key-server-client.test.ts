import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { once } from 'node:events'
import { KeyServerClient } from '../../src/keyserver/client/key-server-client.js'
import { unreachableReason } from '../../src/keyserver/client/unreachable.js'
import { CspaceError } from '../../src/errors.js'
import { signOperation } from '../../src/keyserver/operation.js'
import { newKeyUser } from '../helpers/keyserver.js'
import { selfSignedServerCredentials } from '../helpers/certificates.js'

/** How the stand-in key server answers the next request. */
type Answer = (res: ServerResponse) => void

let server: Server
let answer: Answer = (res) => { res.end('{}') }
let url = ''

before(async () => {
  server = createServer((_req, res) => { answer(res) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
after(() => { server.closeAllConnections(); server.close() })

/** The client's lookup against `a`: the error it ends with (it must end with one). */
async function failureOf (a: Answer): Promise<CspaceError> {
  answer = a
  try {
    await new KeyServerClient(url).lookup('alice')
  } catch (err) {
    assert.ok(err instanceof CspaceError, `a raw ${(err as Error).name}: ${(err as Error).message}`)
    assert.doesNotMatch(err.message, /\n/)
    return err
  }
  assert.fail('the lookup succeeded')
}

const json = { 'content-type': 'application/json' }

test('an oversized answer is refused, declared or not', async () => {
  const declared = await failureOf((res) => { res.writeHead(200, { ...json, 'content-length': String(5 * 1024 * 1024) }); res.write('{') })
  assert.match(declared.message, /its answer is larger than 1048576 bytes/)
  const chunked = await failureOf((res) => {
    res.writeHead(200, json)
    const block = Buffer.alloc(64 * 1024, 0x20)
    let n = 0
    const more = (): void => { while (n++ < 40) if (!res.write(block)) { res.once('drain', more); return } res.end('{}') }
    more()
  })
  assert.equal(chunked.code, 'KEYSERVER_UNAVAILABLE')
  assert.match(chunked.message, /its answer is larger than 1048576 bytes/)
})

test('a truncated answer is "cut off", not an unexpected error', async () => {
  const e = await failureOf((res) => {
    res.writeHead(200, { ...json, 'content-length': '1000' })
    res.write('{"username":"alice","key":')
    setTimeout(() => res.destroy(), 50)
  })
  assert.equal(e.code, 'KEYSERVER_UNAVAILABLE')
  assert.match(e.message, /^the key server at http:\/\/127\.0\.0\.1:\d+ cannot be used: its answer was cut off/)
})

test('an answer that drips in slower than the deadline ends at the deadline', async () => {
  const e = await failureOf((res) => {
    res.writeHead(200, json)
    const drip = setInterval(() => { if (!res.destroyed) res.write(' ') }, 500)
    res.once('close', () => clearInterval(drip))
  })
  assert.equal(e.code, 'KEYSERVER_UNAVAILABLE')
  assert.match(e.message, /its answer did not arrive within 10 s/)
})

test('not JSON, JSON of the wrong shape, and deep nesting are refused with the reason', async () => {
  assert.match((await failureOf((res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>') })).message, /with something that is not JSON; is the URL a cspace key server\?/)
  assert.equal((await failureOf((res) => { res.writeHead(200, json).end('null') })).code, 'KEYSERVER_ANSWER_INVALID')
  assert.equal((await failureOf((res) => { res.writeHead(200, json).end('['.repeat(100_000) + ']'.repeat(100_000)) })).code, 'KEYSERVER_ANSWER_INVALID')
  assert.match((await failureOf((res) => { res.writeHead(500, json).end('{"nope":1}') })).message, /it answered 500 without a reason/)
})

test('a name nested too deep to print, beside a validly signed operation, is an untrustworthy answer', async () => {
  const alice = await newKeyUser()
  const op = await signOperation({ op: 'register', username: 'alice', key: alice.id, displayName: '', prev: '' }, alice.key)
  const deep = '['.repeat(50_000) + ']'.repeat(50_000)
  const err = await failureOf((res) => { res.writeHead(200, json).end(`{"username":${deep},"key":"${alice.id}","seq":1,"operation":${JSON.stringify(op)}}`) })
  assert.equal(err.code, 'KEYSERVER_ANSWER_INVALID')
  assert.match(err.message, /\(an entry for \(a list\) that its own log entry does not support\)/)
})

test('a log page longer than asked for is refused before its entries are checked', async () => {
  // 25 pages of 1 MiB would otherwise hold ~65,000 entries, each a signature to verify
  answer = (res) => { res.writeHead(200, json).end(JSON.stringify({ operations: Array.from({ length: 201 }, () => ({})), next: null })) }
  await assert.rejects(new KeyServerClient(url).history('alice'), (err: CspaceError) => err.code === 'KEYSERVER_ANSWER_INVALID' && /a log page of 201 operations, when 200 were asked for/.test(err.message))
})

test('a key lookup with more names than a key server gives is refused before they are checked', async () => {
  answer = (res) => { res.writeHead(200, json).end(JSON.stringify({ users: Array.from({ length: 11 }, () => ({})) })) }
  await assert.rejects(new KeyServerClient(url).byFingerprint('1'.repeat(30)), (err: CspaceError) => err.code === 'KEYSERVER_ANSWER_INVALID' && /a key lookup of 11 names, more than the 10/.test(err.message))
})

test('a redirect is named, not followed; a proxy\'s 502 says the key server behind it may be down', async () => {
  const moved = await failureOf((res) => { res.writeHead(301, { location: 'https://keys.example.org/' }).end('<html>moved</html>') })
  assert.match(moved.message, /cannot be used: it redirects to https:\/\/keys\.example\.org\/; if you trust that address, use it instead/)
  const proxied = await failureOf((res) => { res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>') })
  assert.match(proxied.message, /it answered 502 from a proxy, which may not reach the key server behind it; try again later/)
  assert.equal(proxied.exitCode, 1)
})

test('a refusal of what was asked exits 2; a rate limit, a clock off or a race exits 1', async () => {
  const refusal = (status: number, code: string): Answer => (res) => { res.writeHead(status, json).end(JSON.stringify({ error: { code, message: `${code} here` } })) }
  for (const [status, code, exit] of [[404, 'USERNAME_NOT_FOUND', 2], [410, 'USERNAME_DELETED', 2], [409, 'NAME_TAKEN', 2], [429, 'RATE_LIMITED', 1], [400, 'STALE_TIMESTAMP', 1], [409, 'STALE_HEAD', 1], [404, 'NO_SUCH_ROUTE', 1]] as const) {
    const e = await failureOf(refusal(status, code))
    assert.deepEqual([e.code, e.exitCode], [code, exit], code)
    assert.equal(e.message, `the key server says: ${code} here`)
  }
})

test('no server, an unknown host, TLS against plain HTTP, plain HTTP against TLS: what to check, not a bare code', async () => {
  const closed = createServer()
  closed.listen(0, '127.0.0.1')
  await once(closed, 'listening')
  const port = (closed.address() as { port: number }).port
  closed.close()
  const reason = async (u: string): Promise<string> => {
    const err = await new KeyServerClient(u).lookup('alice').then(() => assert.fail('answered'), (e: Error) => e)
    assert.ok(err instanceof CspaceError && err.code === 'KEYSERVER_UNAVAILABLE', err.message)
    return err.message
  }
  assert.match(await reason(`http://127.0.0.1:${port}`), /nothing answers at that address \(connection refused\); check the URL, and that the key server runs$/)
  // (no DNS query in a test: fetch's error for a name that does not resolve, as it reports it)
  const unresolved = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND keys.example.invalid' } })
  assert.equal(unreachableReason(unresolved, 'http://keys.example.invalid:8470', 10_000), 'the host keys.example.invalid is not known (DNS); check the URL')
  assert.match(await reason(url.replace('http:', 'https:')), /TLS failed \(ERR_SSL_[A-Z_]+\); if the server speaks plain HTTP, use an http:\/\/ URL$/)
  const tls = createTlsServer(await selfSignedServerCredentials(), (_req, res) => { res.end('{}') })
  tls.listen(0, '127.0.0.1')
  await once(tls, 'listening')
  try {
    const tlsPort = (tls.address() as { port: number }).port
    assert.match(await reason(`https://127.0.0.1:${tlsPort}`), /its TLS certificate is not trusted \([A-Z_]+\); give the server a certificate from a known CA, or trust its CA with NODE_EXTRA_CA_CERTS=FILE$/)
    assert.match(await reason(`http://127.0.0.1:${tlsPort}`), /the connection was closed before an answer; is it an https:\/\/ server \(or not a web server at all\)\? check the URL$/)
  } finally {
    tls.closeAllConnections()
    tls.close()
  }
})
