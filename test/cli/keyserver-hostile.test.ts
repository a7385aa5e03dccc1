import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type Server, type IncomingMessage, type ServerResponse } from 'node:http'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupAll, makeProfile, runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { http, startKeyServer, type RunningKeyServer } from '../helpers/keyserver.js'

type Profile = Awaited<ReturnType<typeof makeProfile>>

/**
 * An HTTP proxy in front of the real key server that can misbehave the way
 * networks and hostile servers do: lose the answer to a write (the write
 * itself went through), or answer everything itself.
 */
async function faultyProxy (target: string): Promise<{ url: string, mode: { loseWriteAnswers: boolean, down: boolean, downFromWrite: boolean, errorText?: string }, server: Server }> {
  const mode = { loseWriteAnswers: false, down: false, downFromWrite: false, errorText: undefined as string | undefined }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (mode.downFromWrite && req.method === 'POST') mode.down = true // the link fails as the write goes out
    if (mode.errorText != null) { res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'USERNAME_NOT_FOUND', message: mode.errorText } })); return }
    if (mode.down) { res.writeHead(502).end('bad gateway'); return }
    const up = httpRequest(target + (req.url ?? '/'), { method: req.method, headers: req.headers }, (answer) => {
      if (mode.loseWriteAnswers && req.method === 'POST') { answer.resume(); res.writeHead(502).end('bad gateway'); return }
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    req.pipe(up)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, mode, server }
}

describe('the CLI against failing and hostile key servers', () => {
  let ks: RunningKeyServer
  let proxy: Awaited<ReturnType<typeof faultyProxy>>
  let alice: Profile
  let bob: Profile

  before(async () => {
    ks = await startKeyServer(join(tempDir(), 'ks.db'))
    proxy = await faultyProxy(ks.url)
    ;[alice, bob] = await Promise.all([makeProfile('alice'), makeProfile('bob')])
    assert.equal((await runCli(alice.home, ['keyserver', 'register', 'alice', '--keyserver', ks.url])).code, 0)
  })
  after(async () => {
    proxy?.server.close()
    await ks?.stop()
    await cleanupAll()
  })

  test('a rotation whose answer was lost is finished from the log; one that never landed is kept and finished later', async () => {
    proxy.mode.loseWriteAnswers = true
    const r = await runCli(alice.home, ['keyserver', 'rotate', '--keyserver', proxy.url])
    proxy.mode.loseWriteAnswers = false
    assert.equal(r.code, 0, `the server took it, so the profile must follow: ${r.stderr}`)
    const newId = r.stdout.split('\n')[0]
    assert.equal((await runCli(alice.home, ['id'])).stdout.split('\n')[0], newId)
    assert.equal((await http(ks.url, 'GET', '/v1/users/alice')).body.key, newId, 'the profile and the server agree')

    // now the link fails as the write goes out: neither the write nor the check after it gets through
    proxy.mode.downFromWrite = true
    const lost = await runCli(alice.home, ['keyserver', 'rotate', '--keyserver', proxy.url])
    proxy.mode.downFromWrite = false
    proxy.mode.down = false
    assert.equal(lost.code, 1)
    assert.match(lost.stderr, /^cspace: the key server did not confirm the rotation .*the new key is kept in .*identity\.key\.new: run `cspace keyserver rotate` again/)
    assert.ok(existsSync(join(alice.home, 'identity.key.new')), 'the new key is not thrown away')
    assert.equal((await runCli(alice.home, ['id'])).stdout.split('\n')[0], newId, 'the profile keeps the key the server knows')
    // the write never reached the server: the next rotate discards the pending key and rotates afresh
    const again = await runCli(alice.home, ['keyserver', 'rotate', '--keyserver', ks.url])
    assert.equal(again.code, 0, again.stderr)
    const newest = again.stdout.split('\n')[0]
    assert.notEqual(newest, newId)
    assert.equal((await http(ks.url, 'GET', '/v1/users/alice')).body.key, newest)
    assert.ok(!existsSync(join(alice.home, 'identity.key.new')))
  })

  test('one contact\'s failing server does not keep the others from being checked', async () => {
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'al', '--from-keyserver', 'alice', '--keyserver', ks.url])).code, 0)
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'al2', '--from-keyserver', 'alice', '--keyserver', proxy.url])).code, 2, 'the same key twice is refused')
    const carol = await makeProfile('carol')
    assert.equal((await runCli(carol.home, ['keyserver', 'register', 'carol', '--keyserver', proxy.url])).code, 0)
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'carol', '--from-keyserver', 'carol', '--keyserver', proxy.url])).code, 0)
    proxy.mode.down = true
    const v = await runCli(bob.home, ['contacts', 'verify'])
    proxy.mode.down = false
    assert.equal(v.code, 1)
    assert.match(v.stdout, /^al: ok: "alice" on .* still holds the key you pinned/m)
    assert.match(v.stdout, /^carol: could not check: the key server at .* cannot be used/m)
  })

  test('a server\'s words reach the terminal without escape sequences', async () => {
    proxy.mode.errorText = '\r\u001b[2K\u001b[32mok: alice still holds the key you pinned'
    const r = await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--keyserver', proxy.url])
    proxy.mode.errorText = undefined
    assert.equal(r.code, 2)
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.stderr), JSON.stringify(r.stderr))
    assert.match(r.stderr, /^cspace: the key server says: \?\?\[2K\?\[32mok: alice/)
  })
})
