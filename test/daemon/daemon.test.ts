import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'node:http'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { cleanupAll, makeProfile, runCli, startDaemon } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { freePort } from '../helpers/sshd.js'

async function api (port: number, path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number, body: any, text: string }> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> ?? {}) }
  if (init.token != null) headers.authorization = `Bearer ${init.token}`
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers })
  const text = await res.text()
  let body: any
  try { body = JSON.parse(text) } catch { body = undefined }
  return { status: res.status, body, text }
}

describe('the daemon and its local API', () => {
  after(async () => { await cleanupAll() })

  test('daemon.json and a 0600 token; the API requires the token and never echoes or logs it', async () => {
    const p = await makeProfile('api')
    const d = await startDaemon(p.home)
    const info = JSON.parse(readFileSync(join(p.home, 'daemon.json'), 'utf8'))
    assert.equal(info.pid, d.proc.pid)
    assert.ok(info.apiPort > 0 && info.appPort > 0)
    const tokenFile = join(p.home, 'api-token')
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600)
    const token = readFileSync(tokenFile, 'utf8').trim()
    assert.ok(token.length >= 32)

    assert.equal((await api(info.apiPort, '/v1/status', { token })).status, 200)
    const none = await api(info.apiPort, '/v1/status')
    assert.equal(none.status, 401)
    assert.equal(none.body.error.code, 'UNAUTHORIZED')
    const wrong = await api(info.apiPort, '/v1/status', { token: token.slice(0, -2) + 'xx' })
    assert.equal(wrong.status, 401)
    assert.ok(!wrong.text.includes(token.slice(0, -2)), 'the reply does not echo the token')
    // fetch() will not send a forged Host, so a raw request plays the DNS-rebinding page
    const rebinding = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: info.apiPort, path: '/v1/status', headers: { host: 'evil.example', authorization: `Bearer ${token}` } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject).end()
    })
    assert.equal(rebinding, 403)
    // the CLI is a client of this API
    const status = await runCli(p.home, ['status', '--json'])
    assert.equal(JSON.parse(status.stdout).user.userId, p.userId)
    await d.stop()
    assert.ok(!d.stderr().includes(token), 'the token is never logged')
  })

  test('bad API input gets a 4xx JSON error and the daemon keeps serving', async () => {
    const p = await makeProfile('badapi')
    await startDaemon(p.home)
    const info = JSON.parse(readFileSync(join(p.home, 'daemon.json'), 'utf8'))
    const token = readFileSync(join(p.home, 'api-token'), 'utf8').trim()
    const post = async (path: string, body: string): Promise<{ status: number, body: any }> =>
      await api(info.apiPort, path, { method: 'POST', token, body, headers: { 'content-type': 'application/json' } })
    assert.equal((await post('/v1/contacts', '{not json')).status, 400)
    assert.equal((await post('/v1/contacts', JSON.stringify({ name: 'x', userId: 'cs1nope' }))).body.error.code, 'INVALID_USER_ID')
    const own = await post('/v1/contacts', JSON.stringify({ name: 'me', userId: p.userId }))
    assert.equal(own.status, 400)
    assert.equal(own.body.error.code, 'OWN_ID_AS_CONTACT', 'your own ID is no contact, through the API as in the CLI')
    assert.equal((await post('/v1/contacts', JSON.stringify({ name: 'x', userId: p.userId, extra: 1 }))).status, 400)
    assert.equal((await post('/v1/contacts', JSON.stringify({ name: 'x'.repeat(100_000), userId: p.userId }))).status, 413)
    assert.equal((await post('/v1/exposes', JSON.stringify({ service: 'Bad Name!', target: '127.0.0.1:1' }))).body.error.code, 'INVALID_SERVICE_NAME')
    assert.equal((await post('/v1/exposes', JSON.stringify({ service: 'web', target: 'nowhere' }))).body.error.code, 'INVALID_TARGET')
    assert.equal((await post('/v1/forwards', JSON.stringify({ port: 0, contact: 'nobody', service: 'web' }))).status, 404)
    assert.equal((await post('/v1/requests/abc', JSON.stringify({ decision: 'maybe' }))).status, 400)
    assert.equal((await post('/v1/requests/abc', JSON.stringify({ decision: 'allow' }))).status, 404)
    // a rule naming no contact would never match: a typo, refused
    const typo = await post('/v1/rules', JSON.stringify({ action: 'allow', who: 'nobdy', service: 'web' }))
    assert.equal(typo.body.error.code, 'CONTACT_NOT_FOUND')
    assert.equal((await api(info.apiPort, '/v1/rules', { token })).body.entries.length, 0)
    assert.equal((await post('/v1/exposes', JSON.stringify({ service: 'sh', exec: ' ' }))).body.error.code, 'INVALID_TARGET')
    assert.equal((await api(info.apiPort, '/v1/status', { token })).status, 200)
  })

  test('a caller without the token is answered and cut off, not waited for; a request held open does not hold up the daemon\'s stop', async () => {
    const p = await makeProfile('heldapi')
    const d = await startDaemon(p.home)
    const info = JSON.parse(readFileSync(join(p.home, 'daemon.json'), 'utf8'))
    const token = readFileSync(join(p.home, 'api-token'), 'utf8').trim()
    /** A POST that announces 60 kB (under the body limit) and sends one byte of it, then nothing; its socket and what came back. */
    const trickle = async (headers: string): Promise<{ socket: Socket, got: () => string }> => {
      const socket = connect(info.apiPort, '127.0.0.1')
      let got = ''
      socket.on('data', (b: Buffer) => { got += b.toString() })
      socket.on('error', () => {})
      await once(socket, 'connect')
      socket.write(`POST /v1/contacts HTTP/1.1\r\nHost: 127.0.0.1:${info.apiPort as number}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n${headers}\r\n{`)
      return { socket, got: () => got }
    }
    const stranger = await trickle('')
    await waitFor('the stranger\'s connection closed by the daemon', () => stranger.socket.closed ? true : undefined)
    assert.match(stranger.got(), /^HTTP\/1\.1 401 /)
    const held = await trickle(`Authorization: Bearer ${token}\r\n`)
    await waitFor('the held request reaches the daemon', async () => (await api(info.apiPort, '/v1/status', { token })).status === 200 ? true : undefined)
    assert.equal(held.socket.closed, false)
    assert.equal(await d.stop(), 0)
    assert.doesNotMatch(d.stderr(), /did not finish/, 'the held request was cut, not waited for')
  })

  test('status without waiting (the web UI): an unknown contact is "checking" at once, then presence:checked says it was looked up', async () => {
    const p = await makeProfile('nowait')
    const far = await makeProfile('far')
    assert.equal((await runCli(p.home, ['contacts', 'add', 'far', far.userId])).code, 0)
    await startDaemon(p.home) // no bootstrap: far's presence cannot be found
    const info = JSON.parse(readFileSync(join(p.home, 'daemon.json'), 'utf8'))
    const token = readFileSync(join(p.home, 'api-token'), 'utf8').trim()
    const first = await api(info.apiPort, '/v1/status?presenceWaitMs=0', { token })
    assert.equal(first.status, 200)
    assert.equal(first.body.contacts[0].presence, 'checking')
    const checked = await waitFor('the presence:checked event', async () => {
      const { body } = await api(info.apiPort, '/v1/events?since=0', { token })
      return (body.events as Array<{ type: string, data: { name: string } }>).find(e => e.type === 'presence:checked')
    }, 30_000, 200)
    assert.equal(checked.data.name, 'far')
    const again = await api(info.apiPort, '/v1/status?presenceWaitMs=0', { token })
    assert.equal(again.body.contacts[0].presence, 'offline')
    assert.equal((await api(info.apiPort, '/v1/status?presenceWaitMs=9999', { token })).status, 400)
  })

  test('a contact the CLI adds while the daemon runs is the daemon\'s at once, though the daemon reads contacts from memory', async () => {
    const p = await makeProfile('cliadd')
    const far = await makeProfile('faraway')
    await startDaemon(p.home)
    const info = JSON.parse(readFileSync(join(p.home, 'daemon.json'), 'utf8'))
    const token = readFileSync(join(p.home, 'api-token'), 'utf8').trim()
    assert.deepEqual((await api(info.apiPort, '/v1/contacts', { token })).body.contacts, [], 'the daemon has read its (empty) book')
    // the CLI writes the store itself, then tells the daemon; the daemon's own look at the store comes only every second
    assert.equal((await runCli(p.home, ['contacts', 'add', 'far', far.userId])).code, 0)
    const list = await api(info.apiPort, '/v1/contacts', { token })
    assert.deepEqual(list.body.contacts.map((c: { name: string }) => c.name), ['far'])
    assert.equal((await api(info.apiPort, '/v1/profile/changed', { method: 'POST' })).status, 401, 'the token is required')
    assert.equal((await api(info.apiPort, '/v1/profile/changed', { method: 'POST', token })).status, 204)
  })

  test('a second daemon on the same profile is refused with a clear message', async () => {
    const p = await makeProfile('twice')
    const first = await startDaemon(p.home)
    const second = await runCli(p.home, ['daemon'])
    assert.equal(second.code, 1)
    assert.match(second.stderr, new RegExp(`a daemon \\(pid ${first.proc.pid}\\) is already running`))
    assert.equal(first.proc.exitCode, null)
  })

  test('a port in use at start: the API\'s or a listen address is one line and an exit, not a daemon half up; a saved forward\'s is a warning', async (t) => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    t.after(() => { holder.close() })
    const taken = (holder.address() as AddressInfo).port
    const p = await makeProfile('ports')
    const api = await runCli(p.home, ['daemon', '--api-port', String(taken)], { timeoutMs: 30_000 })
    assert.equal(api.code, 2, api.stderr)
    assert.equal(api.stderr, `cspace: the local API's port ${taken} is already in use; pick another with --api-port (or drop apiPort from config.json for any free one)\n`)
    const listen = await runCli(p.home, ['daemon', '--listen', `/ip4/127.0.0.1/tcp/${taken}`], { timeoutMs: 30_000 })
    assert.equal(listen.code, 2, listen.stderr)
    assert.match(listen.stderr, new RegExp(`^cspace: cannot listen on /ip4/127\\.0\\.0\\.1/tcp/${taken}: the port is in use or the address is not on this machine; pick another with --listen .*\n$`))
    assert.ok(!existsSync(join(p.home, 'daemon.lock')), 'the profile was released')
    const udp = await runCli(p.home, ['daemon', '--listen', '/ip4/127.0.0.1/udp/4001'], { timeoutMs: 30_000 })
    assert.equal(udp.code, 2, udp.stderr)
    assert.equal(udp.stderr, 'cspace: invalid address "/ip4/127.0.0.1/udp/4001": cspace listens on TCP only, e.g. /ip4/0.0.0.0/tcp/4001\n')

    // a forward saved on a port that is taken when the daemon next starts
    const bob = await makeProfile('ports-bob')
    assert.equal((await runCli(p.home, ['contacts', 'add', 'bob', bob.userId])).code, 0)
    const first = await startDaemon(p.home)
    const port = Number((await runCli(p.home, ['forward', '0', 'bob', 'ssh'])).stdout.trim())
    await first.stop()
    const squatter = createServer()
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve))
    t.after(() => { squatter.close() })
    const second = await startDaemon(p.home)
    await waitFor('the warning on stderr', () => second.stderr().includes(`cspace: the forward on port ${port} to bob/ssh is not listening: local port ${port} is already in use`), 10_000, 50)
    // status shows it, not listening, and why
    const shown = JSON.parse((await runCli(p.home, ['status', '--json'])).stdout) as { forwards: Array<{ port: number, listening: boolean, lastError?: string }> }
    assert.deepEqual(shown.forwards.map(f => [f.port, f.listening]), [[port, false]])
    assert.match(shown.forwards[0].lastError ?? '', /already in use/)
    assert.match((await runCli(p.home, ['status'])).stdout, new RegExp(`127\\.0\\.0\\.1:${port} -> bob/ssh {2}\\(saved, not listening: local port ${port} is already in use.*; tried again at the next start\\)`))
    squatter.close()
    await second.stop()
    const third = await startDaemon(p.home)
    const status = JSON.parse((await runCli(p.home, ['status', '--json'])).stdout) as { forwards: Array<{ port: number, listening: boolean }> }
    assert.deepEqual(status.forwards.map(f => [f.port, f.listening]), [[port, true]], 'kept, and back once the port is free')
    // the same forward again changes nothing; another on its port is refused, not swapped in
    assert.equal((await runCli(p.home, ['forward', String(port), 'bob', 'ssh'])).code, 0)
    const other = await runCli(p.home, ['forward', String(port), 'bob', 'web'])
    assert.equal(other.code, 2)
    assert.equal(other.stderr, `cspace: local port ${port} already forwards to bob/ssh; remove that first (cspace forward --remove ${port}) or pick another port\n`)
    const kept = JSON.parse((await runCli(p.home, ['status', '--json'])).stdout) as { forwards: Array<{ port: number, service: string }> }
    assert.deepEqual(kept.forwards.map(f => [f.port, f.service]), [[port, 'ssh']])
    await third.stop()
  })

  test('with no daemon running, a forward on a named port, rules and an expose are saved; status shows them; the next start applies them', async () => {
    const p = await makeProfile('offline')
    const bob = await makeProfile('offline-bob')
    const cli = async (args: string[], code = 0): Promise<{ stdout: string, stderr: string }> => {
      const r = await runCli(p.home, args)
      assert.equal(r.code, code, `cspace ${args.join(' ')}: ${r.stderr}`)
      return r
    }
    await cli(['contacts', 'add', 'bob', bob.userId])
    const port = await freePort()
    assert.equal((await cli(['forward', String(port), 'bob', 'ssh'])).stderr, `forwarding 127.0.0.1:${port} -> bob/ssh (saved; listens when the daemon starts)\n`)
    // checked as the daemon checks: a name that is no contact, one's own ID, another forward on the port
    assert.match((await cli(['forward', String(port + 1), 'carol', 'ssh'], 2)).stderr, /no contact named "carol"/)
    assert.match((await cli(['forward', String(port + 1), p.userId, 'ssh'], 2)).stderr, /your own user ID/)
    assert.match((await cli(['forward', String(port), 'bob', 'web'], 2)).stderr, new RegExp(`local port ${port} already forwards to bob/ssh`))
    await cli(['forward', String(port + 1), bob.userId, 'web'])
    await cli(['forward', '--remove', String(port + 1)])
    assert.match((await cli(['forward', '--remove', String(port + 1)], 2)).stderr, /no forward on local port/)
    assert.match((await cli(['rules', 'add', 'deny', 'carol', 'ssh'], 2)).stderr, /no contact named "carol"/)
    const rule = (await cli(['rules', 'add', 'deny', 'bob', 'web'])).stdout
    assert.match(rule, /^\d+\tdeny bob web\n$/)
    const dropped = (await cli(['rules', 'add', 'allow', 'anyone', 'chat', '--position', '0'])).stdout.split('\t')[0]
    assert.equal((await cli(['rules', 'remove', dropped])).stdout, 'removed allow anyone chat\n')
    await cli(['expose', 'echo', '127.0.0.1:7'])
    const offline = await runCli(p.home, ['status'])
    assert.equal(offline.code, 1)
    assert.equal(offline.stderr, `cspace: no daemon is running for the profile ${p.home}; start one with \`cspace daemon\`\n`)
    for (const line of [`user        ${p.userId}`, 'daemon      not running: no presence, connections or tunnels', `  127.0.0.1:${port} -> bob/ssh`, '  echo             -> 127.0.0.1:7', 'rules       1 of your own; see `cspace rules list`']) {
      assert.ok(offline.stdout.split('\n').includes(line), `status shows ${JSON.stringify(line)}:\n${offline.stdout}`)
    }
    assert.match(offline.stdout, /^ {2}bob {14}\d{5}( \d{5}){5}$/m)
    const d = await startDaemon(p.home)
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { forwards: Array<{ port: number, listening: boolean }>, exposes: Array<{ service: string }> }
    assert.deepEqual(status.forwards.map(f => [f.port, f.listening]), [[port, true]])
    assert.deepEqual(status.exposes.map(e => e.service), ['echo'])
    const rules = JSON.parse((await cli(['rules', 'list', '--json'])).stdout) as Array<{ text: string }>
    assert.deepEqual(rules.map(r => r.text), ['deny bob web'])
    await d.stop()
  })

  test('a forward or expose saved while the daemon is starting is not lost: the command waits for it and hands it over', async () => {
    const p = await makeProfile('starting')
    const bob = await makeProfile('starting-bob')
    assert.equal((await runCli(p.home, ['contacts', 'add', 'bob', bob.userId])).code, 0)
    const port = await freePort()
    const starting = startDaemon(p.home)
    // the daemon holds the lock, and has not yet said where its API is (it reads the tunnels before)
    await waitFor('the daemon to take the profile lock', () => existsSync(join(p.home, 'daemon.lock')), 30_000, 5)
    const raced = existsSync(join(p.home, 'daemon.json')) ? 'after' : 'during'
    const [forward, expose] = await Promise.all([runCli(p.home, ['forward', String(port), 'bob', 'ssh']), runCli(p.home, ['expose', 'echo', '127.0.0.1:7'])])
    assert.equal(forward.code, 0, forward.stderr)
    assert.equal(expose.code, 0, expose.stderr)
    const d = await starting
    const status = JSON.parse((await runCli(p.home, ['status', '--json'])).stdout) as { forwards: Array<{ port: number, listening: boolean }>, exposes: Array<{ service: string }> }
    assert.deepEqual(status.forwards.map(f => [f.port, f.listening]), [[port, true]], `a forward saved ${raced} the start`)
    assert.deepEqual(status.exposes.map(e => e.service), ['echo'])
    await d.stop()
    // a daemon that never gets past its start (here: a process holding the lock, no daemon.json): refused, not saved behind its back
    const holder = spawn('sleep', ['120'], { stdio: 'ignore' })
    try {
      writeFileSync(join(p.home, 'daemon.lock'), String(holder.pid))
      const stuck = await runCli(p.home, ['forward', String(port + 1), 'bob', 'web'])
      assert.equal(stuck.code, 1)
      assert.equal(stuck.stderr, `cspace: the daemon for the profile ${p.home} (pid ${holder.pid}) is still starting; try again in a moment\n`)
    } finally {
      holder.kill()
      if (holder.exitCode == null && holder.signalCode == null) await once(holder, 'exit')
      unlinkSync(join(p.home, 'daemon.lock'))
    }
    const saved = JSON.parse((await runCli(p.home, ['status', '--json'])).stdout || '{}') as { forwards?: unknown[] }
    assert.equal(saved.forwards, undefined, 'no daemon: status --json prints nothing')
    assert.doesNotMatch((await runCli(p.home, ['status'])).stdout, /:\d+ -> bob\/web/)
  })

  test('status says why presence is not published when every address is loopback or LAN', async () => {
    const p = await makeProfile('private', { config: { network: { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 1000, maxConnections: 300 } } })
    const d = await startDaemon(p.home)
    const status = await runCli(p.home, ['status'])
    assert.match(status.stdout, /^user {8}cs1/m)
    assert.match(status.stdout, /^presence {4}not yet published \(this daemon has only loopback or LAN addresses, .* --allow-private-addresses\)$/m)
    await d.stop()
    const open = await makeProfile('private-allowed')
    const d2 = await startDaemon(open.home)
    assert.doesNotMatch((await runCli(open.home, ['status'])).stdout, /only loopback or LAN/)
    await d2.stop()
  })

  test('SIGINT stops it cleanly and releases the profile; SIGKILL loses nothing stored', async () => {
    const p = await makeProfile('restart')
    const bob = await makeProfile('bob')
    assert.equal((await runCli(p.home, ['contacts', 'add', 'bob', bob.userId])).code, 0)
    let d = await startDaemon(p.home)
    assert.equal((await runCli(p.home, ['expose', 'web', '127.0.0.1:8080'])).code, 0)
    assert.equal((await runCli(p.home, ['expose', 'echo', '--exec', 'cat'])).code, 0)
    assert.equal(await d.signal('SIGINT'), 0)
    assert.ok(!existsSync(join(p.home, 'daemon.lock')))
    d = await startDaemon(p.home)
    await d.kill()
    assert.ok(existsSync(join(p.home, 'daemon.lock')), 'a killed daemon leaves its lock behind')
    d = await startDaemon(p.home) // and the next one takes the stale lock over
    const s = JSON.parse((await runCli(p.home, ['status', '--json'])).stdout)
    assert.equal(s.user.userId, p.userId)
    assert.deepEqual(s.exposes.map((e: { service: string, target: string }) => `${e.service}=${e.target}`), ['echo=cat', 'web=127.0.0.1:8080'])
    assert.deepEqual(s.contacts.map((c: { name: string }) => c.name), ['bob'])
  })

  test('a corrupt store is a clear error, never a silent reset', async () => {
    const p = await makeProfile('corrupt')
    const db = join(p.home, 'cspace.db')
    const garbage = Buffer.from('this is not an SQLite database, but it is the user\'s file\n'.repeat(100))
    writeFileSync(db, garbage)
    for (const args of [['contacts', 'list'], ['daemon']]) {
      const r = await runCli(p.home, args)
      assert.equal(r.code, 1, args.join(' '))
      assert.match(r.stderr, /^cspace: the profile store .*cspace\.db is corrupt \(.*\); restore it from a backup, or move it away to start a new profile\n$/)
    }
    assert.ok(readFileSync(db).equals(garbage), 'the file is untouched')
  })
})
