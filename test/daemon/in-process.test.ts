import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Daemon } from '../../src/daemon/index.js'
import { connect, listen, type Listener } from '../../src/sdk/index.js'
import { cleanupAll, makeProfile, runCli, type Profile } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

async function readAll (s: Duplex): Promise<string> {
  let out = ''
  for await (const chunk of s) out += String(chunk)
  return out
}

/**
 * The SDK inside the daemon's own process (where the apps' background parts
 * run): sessions come as in-memory streams, not loopback TCP connections to
 * the application port, and behave like them — bytes and backpressure both
 * ways, half-close, a destroy seen as a reset, the listener told when the
 * daemon stops. Two real daemons, in this process, over TCP and TLS.
 */
describe('the SDK in the daemon\'s process: in-memory sessions', () => {
  let alice: Profile
  let bob: Profile
  let aliceD: Daemon
  let bobD: Daemon
  let listener: Listener
  const sessions: Duplex[] = []

  before(async () => {
    alice = await makeProfile('alice')
    bob = await makeProfile('bob')
    bobD = await Daemon.start({ home: bob.home })
    aliceD = await Daemon.start({ home: alice.home, bootstrap: [bobD.listenAddresses()[0]] })
    for (const [home, name, id] of [[alice.home, 'bob', bob.userId], [bob.home, 'alice', alice.userId]]) {
      assert.equal((await runCli(home, ['contacts', 'add', name, id])).code, 0)
    }
    listener = await listen('echo', (s) => { sessions.push(s); s.on('error', () => {}); s.pipe(s) }, { home: bob.home })
  })
  after(async () => {
    await aliceD?.stop()
    await bobD?.stop()
    await cleanupAll()
  })

  test('connect gives an in-memory stream, not a socket to the application port; bytes and half-close both ways', async () => {
    const s = await waitFor('a session to bob', async () => await connect('bob', 'echo', { home: alice.home }).catch(() => undefined), 30_000, 200)
    assert.equal(s instanceof Socket, false)
    assert.equal(sessions.at(-1) instanceof Socket, false)
    const big = Buffer.alloc(8 * 1024 * 1024, 'x')
    const back = readAll(s)
    s.end(big)
    assert.equal((await back).length, big.length, 'all of it came back, then the end')
  })

  test('a destroy on one side is a reset on the other', async () => {
    const s = await connect('bob', 'echo', { home: alice.home })
    s.write('hello')
    await waitFor('bob\'s side of the session', () => sessions.length >= 2)
    const theirs = sessions.at(-1)!
    let error: (Error & { code?: string }) | undefined
    theirs.once('error', (err) => { error = err })
    const closed = new Promise((resolve) => theirs.once('close', resolve))
    s.destroy()
    await closed
    assert.equal(theirs.destroyed, true)
    assert.equal(error?.code, 'ECONNRESET', 'as a TCP peer sees a reset')
  })

  test('a refusal comes back as the daemon\'s error; the listener is told when the daemon stops', async () => {
    await assert.rejects(connect('bob', 'nosuch', { home: alice.home }), /no service "nosuch"|nosuch/)
    await bobD.stop()
    await listener.closed
  })
})
