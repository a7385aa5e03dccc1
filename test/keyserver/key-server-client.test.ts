import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { KeyServerClient } from '../../src/keyserver/client/key-server-client.js'
import { CspaceError } from '../../src/errors.js'
import { signOperation } from '../../src/keyserver/operation.js'
import { newKeyUser } from '../helpers/keyserver.js'

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
