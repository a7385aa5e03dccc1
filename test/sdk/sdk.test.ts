import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { connect, listen, LocalApiClient, type PendingRequest } from '../../src/sdk/index.js'
import { cleanupAll, makeProfile, runCli, startDaemon, waitOnline } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

async function readAll (socket: Duplex): Promise<string> {
  let text = ''
  socket.setEncoding('utf8')
  socket.on('data', (c: string) => { text += c })
  await once(socket, 'end')
  return text
}

/** The SDK as a third-party program uses it: listen(service) on bob, connect(bob, service) on alice. */
describe('sdk: connect and listen', () => {
  let alice: Awaited<ReturnType<typeof makeProfile>>
  let bob: Awaited<ReturnType<typeof makeProfile>>

  before(async () => {
    const router = await startDaemon((await makeProfile('router')).home, ['--router'])
    alice = await makeProfile('alice')
    bob = await makeProfile('bob')
    await runCli(alice.home, ['contacts', 'add', 'bob', bob.userId])
    await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])
    await startDaemon(bob.home, ['--bootstrap', router.addresses[0]])
    await startDaemon(alice.home, ['--bootstrap', router.addresses[0]])
    await waitOnline(alice.home, 'bob')
  })

  after(async () => { await cleanupAll() })

  test('a listener receives authenticated callers as plain sockets', async () => {
    const callers: string[] = []
    const listener = await listen('greet', (socket, caller) => {
      callers.push(caller.contactName ?? 'stranger')
      let got = ''
      socket.setEncoding('utf8')
      socket.on('data', (c: string) => { got += c })
      socket.on('end', () => socket.end(`hello ${caller.contactName ?? '?'}, you said: ${got}`))
    }, { home: bob.home })

    for (let i = 0; i < 3; i++) {
      const s = await connect('bob', 'greet', { home: alice.home })
      s.end(`round ${i}`)
      assert.equal(await readAll(s), `hello alice, you said: round ${i}`)
    }
    assert.deepEqual(callers, ['alice', 'alice', 'alice'])

    listener.close()
    await listener.closed
    await assert.rejects(connect('bob', 'greet', { home: alice.home }), /bob has no service "greet"/)
  })

  test('bytes the service sends at once are kept until the caller starts reading', async () => {
    const listener = await listen('welcome', (socket) => { socket.end('welcome, first bytes') }, { home: bob.home })
    const s = await connect('bob', 'welcome', { home: alice.home })
    // the reply line and the service's first bytes may arrive in one segment;
    // attaching the reader only after they sit in the socket must not lose them
    const expected = 'welcome, first bytes'
    await waitFor('the service\'s bytes buffered before anyone reads', () => s.readableLength >= expected.length, 10_000, 20)
    assert.equal(await readAll(s), expected)
    listener.close()
  })

  test('connect to an unknown contact rejects with the reason', async () => {
    await assert.rejects(connect('nobody', 'greet', { home: alice.home }), /no contact named "nobody"/)
  })

  test('a daemon busy setting up 128 other connections answers "busy", and connect waits its turn instead of failing', async () => {
    const listener = await listen('turn', (socket) => { socket.pipe(socket) }, { home: bob.home })
    const { appPort } = JSON.parse(readFileSync(join(alice.home, 'daemon.json'), 'utf8')) as { appPort: number }
    // 128 connections that never send their first line: the daemon's limit of ones being set up
    const holders = await Promise.all(Array.from({ length: 128 }, async () => {
      const s = netConnect(appPort, '127.0.0.1')
      s.on('error', () => {})
      await once(s, 'connect')
      return s
    }))
    try {
      const firstLine = async (): Promise<{ code?: string }> => {
        const probe = netConnect(appPort, '127.0.0.1')
        probe.on('error', () => {})
        probe.end('{"v":1,"token":"wrong","op":"listen","service":"probe"}\n')
        probe.setEncoding('utf8')
        let text = ''
        for await (const chunk of probe) text += chunk as string
        return JSON.parse(text.split('\n')[0]) as { code?: string }
      }
      await waitFor('the daemon saying it is busy', async () => (await firstLine()).code === 'APP_PORT_BUSY', 10_000, 20)
      // busy until the daemon gives up on the silent ones (10 s, its header timeout): the connect is refused until then
      const s = await connect('bob', 'turn', { home: alice.home })
      s.end('my turn')
      assert.equal(await readAll(s), 'my turn')
    } finally {
      for (const h of holders) h.destroy()
      listener.close()
    }
  })

  test('a service name the daemon would refuse is refused by the SDK with the reason, before anything is sent', async () => {
    for (const name of ['x'.repeat(5000), '', 'Bad Name']) {
      await assert.rejects(connect('bob', name, { home: alice.home }), (err: Error & { code?: string }) => err.code === 'INVALID_SERVICE_NAME' && /is not a service name/.test(err.message))
      await assert.rejects(listen(name, () => {}, { home: bob.home }), (err: Error & { code?: string }) => err.code === 'INVALID_SERVICE_NAME')
    }
  })

  test('a connect given up with its signal while bob is being asked rejects with the signal\'s reason, and bob\'s question goes', async () => {
    await runCli(bob.home, ['rules', 'add', 'prompt', 'alice', 'asked'])
    const listener = await listen('asked', (socket) => { socket.end() }, { home: bob.home })
    const bobApi = new LocalApiClient({ home: bob.home })
    const questions = async (): Promise<PendingRequest[]> => (await bobApi.get<{ requests: PendingRequest[] }>('/v1/requests')).requests.filter(r => r.service === 'asked')
    try {
      const giveUp = new AbortController()
      const reason = new Error('the user gave up')
      const attempt = connect('bob', 'asked', { home: alice.home, signal: giveUp.signal, onAsking: () => { giveUp.abort(reason) } })
      await assert.rejects(attempt, (err) => err === reason)
      await waitFor('bob\'s question withdrawn', async () => (await questions()).length === 0, 10_000, 100)
    } finally {
      listener.close()
    }
  })
})
