import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createConnection } from 'node:net'
import { once } from 'node:events'
import { ControlClient, controlSocketPath, CONTROL_MAX_LINE, CONTROL_MAX_UNREAD_BYTES, serveControl, AppHostNotRunning, ControlRequestFailed } from '../../../src/apps/host/index.js'
import { UsageError } from '../../../src/errors.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'
import { waitFor } from '../../helpers/wait.js'

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

test('an operation named by a deeply nested value gets an error line, and the host keeps serving', async () => {
  const home = tempDir()
  const server = await serveControl('demo', { echo: (p) => ({ said: p.text }) }, home)
  try {
    const path = controlSocketPath('demo', home)
    const deep = '['.repeat(6000) + ']'.repeat(6000) // printing it back overflowed the stack, outside any catch: the daemon exited
    const s = createConnection(path)
    let got = ''
    s.on('data', (b: Buffer) => { got += b.toString() })
    s.write(`{"id":7,"op":${deep}}\n{"id":8,"op":{"a":1}}\n`)
    await waitFor('both answered', () => got.split('\n').length > 2)
    assert.match(got, /"id":7,"ok":false,"error":\{"code":"UNKNOWN_OP","message":"unknown operation \(a list\)"/)
    assert.match(got, /"id":8,"ok":false,"error":\{"code":"UNKNOWN_OP","message":"unknown operation \(an object\)"/)
    s.destroy()
    const client = await ControlClient.open('demo', home)
    assert.deepEqual(await client.request('echo', { text: 'still here' }), { said: 'still here' })
    client.close()
  } finally {
    await server.close()
  }
})

test('a front end that never reads: the host stops reading its requests, and cuts it off once its unread events pass the limit', async () => {
  const home = tempDir()
  const server = await serveControl('demo', {
    echo: (p) => ({ said: p.text }),
    watch: (_p, peer) => { peer.subscribed = true; return {} }
  }, home)
  try {
    const path = controlSocketPath('demo', home)
    // requests: replies pile up no further than the socket's buffers, as the host stops reading
    const asker = createConnection(path)
    asker.on('error', () => {})
    await once(asker, 'connect')
    const request = `{"id":1,"op":"echo","text":"${'x'.repeat(100_000)}"}\n`
    for (let i = 0; i < 400; i++) asker.write(request)
    await waitFor('the host stops reading the requests (they wait on the asker\'s side)', () => asker.writableLength > 20_000_000 ? true : undefined)
    asker.destroy()

    // events come unasked: a subscriber that reads nothing is cut off
    const watcher = createConnection(path)
    watcher.on('error', () => {})
    await once(watcher, 'connect')
    watcher.write('{"id":1,"op":"watch"}\n')
    await waitFor('the watcher is subscribed', async () => { server.broadcast('tick', 'first'); return watcher.readableLength > 0 ? true : undefined })
    const event = 'y'.repeat(1 << 20)
    for (let i = 0; i < 4 * CONTROL_MAX_UNREAD_BYTES / event.length; i++) {
      server.broadcast('tick', event)
      await new Promise(resolve => setImmediate(resolve))
    }
    // a paused Unix socket sees its end only once it reads what came before it
    let received = 0
    watcher.on('data', (b: Buffer) => { received += b.length })
    await waitFor('the watcher is cut off', () => watcher.closed ? true : undefined)
    assert.ok(received < 2 * CONTROL_MAX_UNREAD_BYTES, `cut off after ${received} bytes of events`)

    const client = await ControlClient.open('demo', home)
    assert.deepEqual(await client.request('echo', { text: 'still here' }), { said: 'still here' })
    client.close()
  } finally {
    await server.close()
  }
})
