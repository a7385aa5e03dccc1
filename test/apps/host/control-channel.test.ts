import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createConnection } from 'node:net'
import { once } from 'node:events'
import { ControlClient, controlSocketPath, CONTROL_MAX_LINE, serveControl, AppHostNotRunning, ControlRequestFailed } from '../../../src/apps/host/index.js'
import { UsageError } from '../../../src/errors.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'

after(() => removeTempDirs())

async function rawExchange (path: string, bytes: Buffer | string): Promise<string> {
  const s = createConnection(path)
  let got = ''
  s.on('data', (b: Buffer) => { got += b.toString() })
  s.on('error', () => {})
  s.write(bytes)
  await once(s, 'close')
  return got
}

test('requests, errors, events and hang-ups over the control socket', async () => {
  const home = tempDir()
  // why there is no app to talk to: no profile, no daemon, or a daemon without the app (--no-apps)
  await assert.rejects(ControlClient.open('demo', home), { code: 'IDENTITY_MISSING' })
  writeFileSync(join(home, 'identity.key'), '{}')
  await assert.rejects(ControlClient.open('demo', home), { code: 'DAEMON_NOT_RUNNING' })
  writeFileSync(join(home, 'daemon.json'), JSON.stringify({ v: 1, pid: process.pid, apiPort: 1, appPort: 1, peerId: 'x', startedAt: 0 }))
  writeFileSync(join(home, 'api-token'), 'token\n')
  await assert.rejects(ControlClient.open('demo', home), AppHostNotRunning)
  const server = await serveControl('demo', {
    echo: (p) => ({ said: p.text }),
    fail: () => { throw new UsageError('you asked wrong') },
    watch: (_p, peer) => { peer.subscribed = true; return {} }
  }, home)
  const path = controlSocketPath('demo', home)
  assert.equal(statSync(path).mode & 0o777, 0o600, 'only the owner may talk to the host')

  const client = await ControlClient.open('demo', home)
  assert.deepEqual(await client.request('echo', { text: 'hi' }), { said: 'hi' })
  await assert.rejects(client.request('fail'), (err: ControlRequestFailed) => err.code === 'USAGE' && err.exitCode === 2 && err.message === 'you asked wrong')
  await assert.rejects(client.request('nope'), /unknown operation "nope"/)
  await assert.rejects(client.request('__proto__'), /unknown operation/)
  const events: unknown[] = []
  client.onEvent((e, d) => events.push([e, d]))
  await client.request('watch')
  server.broadcast('tick', 1)
  await assert.doesNotReject(client.request('echo'))
  assert.deepEqual(events, [['tick', 1]], 'the event came before the later reply')

  // malformed bytes: an error line, then the host hangs up on that connection only
  assert.match(await rawExchange(path, 'not json\n'), /"code":"BAD_REQUEST","message":"a message is not JSON"/)
  assert.match(await rawExchange(path, Buffer.alloc(CONTROL_MAX_LINE + 1, 0x61)), /longer than 1048576 bytes/)
  assert.match(await rawExchange(path, Buffer.from([0xff, 0x0a])), /not valid UTF-8/)
  assert.deepEqual(await client.request('echo', { text: 'still here' }), { said: 'still here' })

  const pending = client.request('echo').then(() => 'answered', (err: Error) => err.message)
  await server.close()
  const outcome = await pending
  assert.ok(outcome === 'answered' || /went away/.test(outcome), outcome)
  await assert.rejects(client.request('echo'), /went away/)
})
