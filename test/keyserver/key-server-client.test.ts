import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { KeyServerClient } from '../../src/keyserver/client/key-server-client.js'
import { CspaceError } from '../../src/errors.js'

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
