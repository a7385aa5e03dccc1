import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import { connect, listen } from '../../src/sdk/index.js'
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
})
