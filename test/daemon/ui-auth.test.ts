import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'node:http'
import { once } from 'node:events'
import WebSocket from 'ws'
import { cleanupAll, makeProfile, startDaemon } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

/** A raw HTTP request (fetch will not send a forged Host, Origin or Cookie of our choosing). */
async function raw (port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, text }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The subprotocols the UI's WebSockets offer: a browser cannot set their headers (ui/src/session-key.ts). */
const uiProtocols = (key: string): string[] => ['cspace-ui', `cspace-key.${key}`]

describe('the web UI login and the API\'s browser protections', () => {
  let port: number
  let token: string
  let cookie: string
  let csrf: string
  let origin: string
  const bearer = (): Record<string, string> => ({ authorization: `Bearer ${token}` })

  before(async () => {
    const p = await makeProfile('ui')
    await startDaemon(p.home)
    port = JSON.parse(readFileSync(join(p.home, 'daemon.json'), 'utf8')).apiPort
    token = readFileSync(join(p.home, 'api-token'), 'utf8').trim()
    origin = `http://127.0.0.1:${port}`
  })
  after(async () => { await cleanupAll() })

  test('a one-time login link becomes an HttpOnly, SameSite=Strict cookie and a key for the page alone; no URL a server sees keeps a secret', async () => {
    const made = await raw(port, 'POST', '/v1/ui/login', bearer())
    assert.equal(made.status, 201)
    const url = new URL(JSON.parse(made.text).url as string)
    assert.equal(url.host, `127.0.0.1:${port}`)
    assert.equal(url.pathname, '/ui/login')

    // a HEAD first (a link checker, a prefetch) neither logs in nor spends the link
    const head = await raw(port, 'HEAD', url.pathname + url.search, {})
    assert.equal(head.status, 200)
    assert.equal(head.headers['set-cookie'], undefined)
    const login = await raw(port, 'GET', url.pathname + url.search, {})
    assert.equal(login.status, 303)
    // the session's key rides in the fragment, which browsers never send to a server
    const landing = /^\/ui\/#session=([A-Za-z0-9_-]{43})$/.exec(String(login.headers.location))
    assert.ok(landing != null, `the browser lands on the UI with the key in the fragment only: ${String(login.headers.location)}`)
    csrf = landing[1]
    assert.equal(login.headers['referrer-policy'], 'no-referrer')
    assert.equal(login.headers['cache-control'], 'no-store')
    const setCookie = String(login.headers['set-cookie'])
    assert.match(setCookie, new RegExp(`^cspace_ui_${port}=`))
    assert.match(setCookie, /HttpOnly/)
    assert.match(setCookie, /SameSite=Strict/)
    cookie = setCookie.split(';')[0]

    const again = await raw(port, 'GET', url.pathname + url.search, {})
    assert.equal(again.status, 401, 'a login link works once')
    assert.match(again.text, /cspace ui/)

    const session = await raw(port, 'GET', '/v1/ui/session', { cookie, 'x-cspace-csrf': csrf })
    assert.equal(session.status, 200)
    assert.ok(!session.text.includes(csrf), 'nothing hands the key out again')
  })

  test('the cookie alone unlocks nothing: every other server on 127.0.0.1 the browser visits receives it', async () => {
    // replayed from outside a browser, with no Origin or with the UI's own: still refused without the page's key
    const replays: Array<Record<string, string>> = [{ cookie }, { cookie, origin }, { cookie, origin, 'x-cspace-csrf': csrf.slice(1) + 'x' }]
    for (const headers of replays) {
      for (const path of ['/v1/status', '/v1/ui/session', '/v1/contacts']) {
        const r = await raw(port, 'GET', path, headers)
        assert.equal(r.status, 403, `${path} with ${Object.keys(headers).join(', ')}`)
        assert.equal(JSON.parse(r.text).error.code, 'CSRF')
        assert.match(JSON.parse(r.text).error.message, /cspace ui/)
      }
    }
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/events/ws`, ['cspace-ui'], { headers: { cookie, origin } })
    const [, res] = await once(socket, 'unexpected-response') as [unknown, { statusCode: number }]
    assert.equal(res.statusCode, 403, 'a WebSocket without the key as its subprotocol')
    socket.on('error', () => {})
    socket.terminate()
    assert.equal((await raw(port, 'GET', '/v1/status', { cookie, 'x-cspace-csrf': csrf })).status, 200)
  })

  test('no cookie and no token: 401; a forged Host: 403, even with a good cookie', async () => {
    assert.equal((await raw(port, 'GET', '/v1/status', {})).status, 401)
    // the daemon's bare address leads a browser to the page, which says how to log in; nothing else is open
    const root = await raw(port, 'GET', '/', {})
    assert.equal(root.status, 303)
    assert.equal(root.headers.location, '/ui/')
    assert.equal((await raw(port, 'POST', '/', {})).status, 401)
    assert.equal((await raw(port, 'GET', '/v1/status', { cookie: `cspace_ui_${port}=forged` })).status, 401)
    assert.equal((await raw(port, 'GET', '/v1/status', { cookie, 'x-cspace-csrf': csrf })).status, 200)
    const rebound = await raw(port, 'GET', '/v1/status', { cookie, 'x-cspace-csrf': csrf, host: `evil.example:${port}` })
    assert.equal(rebound.status, 403)
    assert.equal(JSON.parse(rebound.text).error.code, 'FORBIDDEN_HOST')
  })

  test('with the cookie: a foreign Origin gets 403; a change needs the UI\'s Origin and the CSRF token', async () => {
    const evil = await raw(port, 'GET', '/v1/status', { cookie, 'x-cspace-csrf': csrf, origin: 'http://127.0.0.1:8080' })
    assert.equal(evil.status, 403)
    assert.equal(JSON.parse(evil.text).error.code, 'FORBIDDEN_ORIGIN')

    const rule = JSON.stringify({ action: 'allow', who: 'anyone', service: 'echo' })
    const json = { 'content-type': 'application/json' }
    assert.equal((await raw(port, 'POST', '/v1/rules', { ...json, cookie, origin: 'http://localhost:9999', 'x-cspace-csrf': csrf }, rule)).status, 403, 'foreign origin')
    assert.equal((await raw(port, 'POST', '/v1/rules', { ...json, cookie, 'x-cspace-csrf': csrf }, rule)).status, 403, 'no origin')
    const noCsrf = await raw(port, 'POST', '/v1/rules', { ...json, cookie, origin }, rule)
    assert.equal(noCsrf.status, 403)
    assert.equal(JSON.parse(noCsrf.text).error.code, 'CSRF')
    assert.equal((await raw(port, 'POST', '/v1/rules', { ...json, cookie, origin, 'x-cspace-csrf': csrf.slice(1) + 'x' }, rule)).status, 403, 'wrong token')
    assert.equal((await raw(port, 'POST', '/v1/rules', { ...json, cookie, origin, 'x-cspace-csrf': csrf }, rule)).status, 201)
    // a command per session is never set up by a page, even a logged-in one; the CLI can
    const exec = JSON.stringify({ service: 'shell', exec: 'sh' })
    const fromPage = await raw(port, 'POST', '/v1/exposes', { ...json, cookie, origin, 'x-cspace-csrf': csrf }, exec)
    assert.equal(fromPage.status, 403)
    assert.match(fromPage.text, /from a terminal/)
    assert.equal((await raw(port, 'POST', '/v1/exposes', { ...json, ...bearer() }, exec)).status, 201)
    assert.equal((await raw(port, 'DELETE', '/v1/exposes/shell', bearer())).status, 200)
    // a browser session cannot mint login links for others
    assert.equal((await raw(port, 'POST', '/v1/ui/login', { cookie, origin, 'x-cspace-csrf': csrf })).status, 403)
  })

  test('logging out ends the session: its cookie no longer works, and its open WebSockets close', async () => {
    const link = new URL(JSON.parse((await raw(port, 'POST', '/v1/ui/login', bearer())).text).url as string)
    const otherLogin = await raw(port, 'GET', link.pathname + link.search, {})
    const other = String(otherLogin.headers['set-cookie']).split(';')[0]
    const otherCsrf = String(otherLogin.headers.location).split('#session=')[1]
    const open = async (headers: Record<string, string>, key?: string): Promise<{ ws: WebSocket, closedWith?: number }> => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events/ws`, key != null ? uiProtocols(key) : [], { headers })
      const socket: { ws: WebSocket, closedWith?: number } = { ws }
      ws.on('close', (code) => { socket.closedWith = code })
      await once(ws, 'open')
      return socket
    }
    const outgoing = await open({ cookie: other, origin }, otherCsrf)
    const staying = await open({ cookie, origin }, csrf)
    const program = await open(bearer())

    const out = await raw(port, 'POST', '/v1/ui/logout', { cookie: other, origin, 'x-cspace-csrf': otherCsrf })
    assert.equal(out.status, 200)
    assert.match(String(out.headers['set-cookie']), new RegExp(`^cspace_ui_${port}=;`))
    assert.equal((await raw(port, 'GET', '/v1/status', { cookie: other, 'x-cspace-csrf': otherCsrf })).status, 401)
    assert.equal(await waitFor('the logged-out session\'s socket to be closed', () => outgoing.closedWith, 10_000, 20), 4401)
    assert.equal((await raw(port, 'GET', '/v1/status', { cookie, 'x-cspace-csrf': csrf })).status, 200, 'other sessions go on')
    for (const { ws } of [staying, program]) assert.equal(ws.readyState, WebSocket.OPEN, 'another session\'s socket and a program\'s stay open')
    staying.ws.close()
    program.ws.close()
  })

  test('bad login requests get a 4xx, in words for the person whose browser shows it, and the daemon keeps serving', async () => {
    for (const path of ['/ui/login', '/ui/login?token=', `/ui/login?token=${'a'.repeat(129)}`, '/ui/login?token=a&token=b']) {
      const r = await raw(port, 'GET', path, {})
      assert.equal(r.status, 400, path)
      assert.equal(r.text, 'This login link is not whole (its token is missing or cut). Run `cspace ui` and open the whole link it prints.\n', path)
    }
    assert.equal((await raw(port, 'GET', '/ui/login?token=%00%ff', {})).status, 401)
    assert.equal((await raw(port, 'GET', '/v1/status', { cookie: 'x'.repeat(8000) })).status, 401)
    // the open /ui/ pages are no way round the API's checks
    for (const path of ['/ui/../v1/status', '/ui/%2e%2e/v1/status', '/ui/..%2fv1/status']) {
      const r = await raw(port, 'GET', path, {})
      assert.notEqual(r.status, 200, path)
      assert.doesNotMatch(r.text, /userId/, path)
    }
    assert.equal((await raw(port, 'GET', '/v1/status', bearer())).status, 200)
  })

  test('the event stream: refused from a foreign origin; from the UI it delivers live events', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${port}/v1/events/ws`, uiProtocols(csrf), { headers: { cookie, origin: 'http://127.0.0.1:8080' } })
    const [, res] = await once(refused, 'unexpected-response') as [unknown, { statusCode: number }]
    assert.equal(res.statusCode, 403)
    refused.on('error', () => {}) // terminating a refused handshake reports it as an error
    refused.terminate()
    // a cookie without any Origin (not a browser's WebSocket) is refused too: a socket can change things and has no CSRF header
    const bare = new WebSocket(`ws://127.0.0.1:${port}/v1/events/ws`, uiProtocols(csrf), { headers: { cookie } })
    const [, bareRes] = await once(bare, 'unexpected-response') as [unknown, { statusCode: number }]
    assert.equal(bareRes.statusCode, 403)
    bare.on('error', () => {})
    bare.terminate()

    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events/ws`, uiProtocols(csrf), { headers: { cookie, origin } })
    const got: Array<{ v: number, type: string, event?: { type: string, data: { name?: string } } }> = []
    ws.on('message', (m) => { got.push(JSON.parse(String(m))) })
    await once(ws, 'open')
    assert.equal(ws.protocol, 'cspace-ui', 'the daemon picks the UI\'s subprotocol, as a browser requires')
    // adding a contact publishes an event
    const carol = await makeProfile('carol')
    const added = await raw(port, 'POST', '/v1/contacts', { ...bearer(), 'content-type': 'application/json' }, JSON.stringify({ name: 'carol', userId: carol.userId }))
    assert.equal(added.status, 201, added.text)
    const event = await waitFor('the contact:added event', () => got.find(m => m.type === 'event' && m.event?.type === 'contact:added'), 10_000, 20)
    assert.equal(event.v, 1)
    assert.equal(event.event?.data.name, 'carol')
    ws.close()

    // a reconnecting client that names a `since` from before a daemon restart is told to reload
    const late = new WebSocket(`ws://127.0.0.1:${port}/v1/events/ws?since=999999`, { headers: { authorization: `Bearer ${token}` } })
    const first = await once(late, 'message') as [Buffer]
    assert.equal(JSON.parse(String(first[0])).type, 'reset')
    late.close()
  })
})
