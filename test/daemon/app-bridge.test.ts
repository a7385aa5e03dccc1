import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'node:http'
import { once } from 'node:events'
import WebSocket from 'ws'
import { cleanupAll, runCli, startTwoUsers, type Profile } from '../helpers/cli.js'
import { sha256File, tempDir, writeRandomFile } from '../helpers/files.js'
import { waitFor } from '../helpers/wait.js'

interface Api { port: number, token: string }

function apiOf (home: string): Api {
  return { port: JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')).apiPort, token: readFileSync(join(home, 'api-token'), 'utf8').trim() }
}

/** POST a body to the uploads route; `send` writes the body (and may stop short). */
async function upload (api: Api, app: string, name: string, headers: Record<string, string>, send: (req: ReturnType<typeof request>) => void): Promise<{ status: number, body: { path?: string, bytes?: number, error?: { code: string, message: string } } }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: api.port, method: 'POST', path: `/v1/apps/${app}/uploads?name=${encodeURIComponent(name)}`, headers: { authorization: `Bearer ${api.token}`, ...headers } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text === '' ? '{}' : text) }) })
    })
    req.on('error', reject)
    send(req)
  })
}

/** A control channel through the daemon's bridge, as the web UI opens it. */
async function openControl (api: Api, app: string): Promise<{ ws: WebSocket, request: (op: string, params?: object) => Promise<{ ok: boolean, result?: any, error?: { code: string, message: string } }>, events: Array<{ event: string, data: any }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${api.port}/v1/apps/${app}/control`, { headers: { authorization: `Bearer ${api.token}` } })
  const waiting = new Map<number, (m: any) => void>()
  const events: Array<{ event: string, data: any }> = []
  ws.on('message', (m) => {
    const msg = JSON.parse(String(m))
    if (typeof msg.event === 'string') events.push(msg)
    else waiting.get(msg.id)?.(msg)
  })
  await once(ws, 'open')
  let next = 1
  return {
    ws,
    events,
    request: async (op, params = {}) => await new Promise((resolve) => {
      const id = next++
      waiting.set(id, resolve)
      ws.send(JSON.stringify({ ...params, id, op }))
    })
  }
}

async function closeCode (ws: WebSocket): Promise<{ code: number, reason: string }> {
  const [code, reason] = await once(ws, 'close') as [number, Buffer]
  return { code, reason: String(reason) }
}

describe('the web UI\'s way to the apps: control bridge and uploads', () => {
  let alice: Profile
  let bob: Profile
  let api: Api
  let downloads: string

  before(async () => {
    ;({ alice, bob } = await startTwoUsers())
    api = apiOf(alice.home)
    downloads = tempDir('cspace-bridge-dl-')
    await waitFor('bob\'s files host', async () => (await runCli(bob.home, ['transfers', 'config', '--downloads', downloads])).code === 0, 20_000, 200)
    assert.equal((await runCli(bob.home, ['receive', '--accept-from', 'alice'])).code, 0)
  })
  after(async () => { await cleanupAll() })

  test('a control request and its answer go through the bridge; the chat app answers as it does the CLI', async () => {
    const chat = await openControl(api, 'chat')
    await chat.request('subscribe')
    const sent = await chat.request('send', { to: 'bob', text: 'through the bridge', waitMs: 20_000 })
    assert.equal(sent.ok, true, JSON.stringify(sent.error))
    assert.equal(sent.result.message.state, 'delivered')
    // the app's events come through as their own messages
    await waitFor('the delivered event', () => chat.events.find(e => e.event === 'delivered' && e.data.message.text === 'through the bridge'))
    const inbox = JSON.parse((await runCli(bob.home, ['chat', '--inbox', '--json'])).stdout) as { messages: Array<{ message: { text: string } }> }
    assert.ok(inbox.messages.some(m => m.message.text === 'through the bridge'))
    // the app's own refusals come back as answers, the channel stays open
    const bad = await chat.request('send', { to: 'nobody-here', text: 'x' })
    assert.equal(bad.ok, false)
    assert.equal(bad.error?.code, 'CONTACT_NOT_FOUND')
    chat.ws.close()
  })

  test('a message that is not one JSON object closes the channel with 1007; an app that is not running is a 404', async () => {
    for (const bad of ['not json', '[1,2]', '"op"', Buffer.from('{"op":"unread"}')]) {
      const c = await openControl(api, 'chat')
      c.ws.send(bad)
      const closed = await closeCode(c.ws)
      assert.equal(closed.code, 1007, String(bad))
      assert.match(closed.reason, /one JSON object/)
    }
    // valid JSON, but nested deeper than JSON.stringify can recurse (it once ended the daemon)
    const deep = await openControl(api, 'chat')
    deep.ws.send('{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}')
    const deepClosed = await closeCode(deep.ws)
    assert.equal(deepClosed.code, 1007)
    assert.match(deepClosed.reason, /nested too deeply/)
    // over the 1 MiB a message may hold: the WebSocket layer drops the connection (1009 from the
    // daemon, or 1006 when the socket goes before its close frame reaches us), before anything parses it
    const big = await openControl(api, 'chat')
    big.ws.send(JSON.stringify({ op: 'unread', pad: 'x'.repeat(2 * 1024 * 1024) }))
    assert.ok([1006, 1009].includes((await closeCode(big.ws)).code))
    for (const [app, status] of [['nosuch', 404], ['UPPER', 400], ['a..b', 400]] as const) {
      const ws = new WebSocket(`ws://127.0.0.1:${api.port}/v1/apps/${app}/control`, { headers: { authorization: `Bearer ${api.token}` } })
      const [, res] = await once(ws, 'unexpected-response') as [unknown, { statusCode: number }]
      assert.equal(res.statusCode, status, app)
      ws.on('error', () => {})
      ws.terminate()
    }
    // still serving
    const c = await openControl(api, 'chat')
    assert.equal((await c.request('unread')).ok, true)
    c.ws.close()
  })

  test('uploads: the file is staged 0600 in the app\'s uploads directory; bad names, types and short bodies keep nothing', async () => {
    const body = Buffer.alloc(100_000, 7)
    const ok = await upload(api, 'files', 'report (final).pdf', { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }, (r) => r.end(body))
    assert.equal(ok.status, 201, JSON.stringify(ok.body))
    const path = ok.body.path!
    assert.ok(path.startsWith(join(alice.home, 'apps', 'files', 'uploads')), path)
    assert.deepEqual(readFileSync(path), body)
    assert.equal(statSync(path).mode & 0o777, 0o600)

    const octet = { 'content-type': 'application/octet-stream', 'content-length': '3' }
    for (const name of ['..', '.', 'a/b', 'a\\b', 'x\u0001y', 'é'.repeat(200)]) {
      const r = await upload(api, 'files', name, octet, (req) => req.end('abc'))
      assert.equal(r.status, 400, name)
      assert.match(r.body.error?.message ?? '', /name/, name)
    }
    assert.equal((await upload(api, 'files', 'a.txt', { 'content-type': 'text/plain', 'content-length': '3' }, (req) => req.end('abc'))).status, 415)
    assert.equal((await upload(api, 'files', 'a.txt', { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' }, (req) => req.end('abc'))).status, 411)
    assert.equal((await upload(api, 'nosuch', 'a.txt', octet, (req) => req.end('abc'))).status, 404)
    assert.equal((await upload(api, 'files', 'huge.bin', { 'content-type': 'application/octet-stream', 'content-length': String(2 ** 52) }, (req) => req.end())).status, 507)

    // a body that stops short: the client goes away after 10 of 1000 bytes
    const uploads = (): number => readdirSync(join(alice.home, 'apps', 'files', 'uploads')).length
    const before = uploads()
    await upload(api, 'files', 'short.bin', { 'content-type': 'application/octet-stream', 'content-length': '1000' }, (req) => {
      req.write(Buffer.alloc(10))
      // gone once the daemon has started saving it (its directory exists)
      void waitFor('the upload to be under way', () => uploads() > before, 10_000, 5).then(() => req.destroy())
    }).catch(() => {})
    await waitFor('the short upload to be removed', () => uploads() === before)
  })

  test('uploads: two at once cannot promise the same free space', async (t) => {
    const dir = join(alice.home, 'apps', 'files', 'uploads')
    const fs = statfsSync(dir)
    const free = fs.bavail * fs.bsize
    // the daemon keeps 256 MiB free: with less than this, 0.6 of it is not "fits alone"
    if (free < 2 * 1024 ** 3) { t.skip(`needs 2 GiB free, ${Math.floor(free / 1024 ** 2)} MiB here`); return }
    // each fits the disk alone, not both
    const length = String(Math.floor(free * 0.6))
    const octet = { 'content-type': 'application/octet-stream', 'content-length': length }
    const before = readdirSync(dir).length
    let first: ReturnType<typeof request> | undefined
    const firstDone = upload(api, 'files', 'first.bin', octet, (req) => { first = req; req.write(Buffer.alloc(10)) }).catch(() => {})
    await waitFor('the first upload to be under way', () => readdirSync(dir).length > before, 10_000, 5)
    const second = await upload(api, 'files', 'second.bin', octet, (req) => req.end())
    assert.equal(second.status, 507, JSON.stringify(second.body))
    assert.match(second.body.error?.message ?? '', /beside the uploads under way/)
    first?.destroy()
    await firstDone
    await waitFor('the first upload to be removed', () => readdirSync(dir).length === before)
    // the first's promise ended with it: the same size is taken again
    let third: ReturnType<typeof request> | undefined
    let thirdStatus = 0
    const thirdDone = upload(api, 'files', 'third.bin', octet, (req) => { third = req; req.write(Buffer.alloc(10)) }).then((r) => { thirdStatus = r.status }, () => {})
    await waitFor('the third upload to be under way, or refused', () => readdirSync(dir).length > before || thirdStatus !== 0, 10_000, 5)
    assert.equal(thirdStatus, 0, 'not refused')
    third?.destroy()
    await thirdDone
    await waitFor('the third upload to be removed', () => readdirSync(dir).length === before)
  })

  test('an uploaded file sent through the files app arrives intact, with progress, and its staged copy is removed', async () => {
    const src = tempDir('cspace-bridge-src-')
    const sum = writeRandomFile(join(src, 'photo.bin'), 3 * 1024 * 1024 + 5)
    const bytes = readFileSync(join(src, 'photo.bin'))
    const staged = await upload(api, 'files', 'photo.bin', { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, (r) => r.end(bytes))
    assert.equal(staged.status, 201)
    const files = await openControl(api, 'files')
    await files.request('subscribe')
    // only staged files: a page cannot send a path of the user's own
    const refused = await files.request('send', { to: 'bob', paths: [join(alice.home, 'identity.key')] })
    assert.equal(refused.ok, false)
    assert.match(refused.error?.message ?? '', /not an uploaded file/)
    // nor through the terminal's operation, which takes any path: the bridge marks a page's requests, whatever they say
    for (const via of [undefined, 'cli', 'web']) {
      const sneaky = await files.request('sendPaths', { to: 'bob', paths: [join(alice.home, 'identity.key')], ...(via != null ? { via } : {}) })
      assert.equal(sneaky.ok, false, `via ${String(via)}`)
      assert.equal(sneaky.error?.code, 'FORBIDDEN')
    }
    const moved = await files.request('config', { downloads: '/tmp' })
    assert.equal(moved.error?.code, 'FORBIDDEN', 'nor may a page choose where files land')

    const started = await files.request('send', { to: 'bob', paths: [staged.body.path] })
    assert.equal(started.ok, true, JSON.stringify(started.error))
    const id = started.result.id as string
    const done = await waitFor('the transfer to finish', () => files.events.find(e => e.event === 'outgoing' && e.data.id === id && (e.data.state === 'done' || e.data.state === 'failed')), 60_000)
    assert.equal(done.data.state, 'done', done.data.error)
    assert.equal(done.data.sentBytes, bytes.length)
    assert.deepEqual(done.data.saved, ['photo.bin'])
    assert.equal(await sha256File(join(downloads, 'photo.bin')), sum)
    await waitFor('the staged copy to be removed', () => !existsSync(staged.body.path!))
    const listed = await files.request('outbox')
    assert.equal(listed.result.find((v: { id: string }) => v.id === id)?.state, 'done')
    assert.equal((await files.request('dismiss', { outgoing: id })).ok, true)
    assert.equal((await files.request('outbox')).result.length, 0)
    files.ws.close()
  })
})
