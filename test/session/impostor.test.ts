import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { cleanupAll, makeProfile, runCli, startDaemon, waitOnline } from '../helpers/cli.js'

/**
 * Bob's presence record points at an address where mallory (another key) now
 * listens, with a service of the same name. Alice must refuse the connection
 * before any application byte reaches mallory's service.
 */
describe('a daemon with a different key at the contact\'s address', () => {
  const sink = createServer()
  after(async () => {
    sink.close()
    await cleanupAll()
  })

  test('is refused, and not one byte is delivered to it', async () => {
    const router = await startDaemon((await makeProfile('router')).home, ['--router'])
    const boot = ['--bootstrap', router.addresses[0]]
    const alice = await makeProfile('alice')
    const bob = await makeProfile('bob')
    const mallory = await makeProfile('mallory')
    assert.equal((await runCli(alice.home, ['contacts', 'add', 'bob', bob.userId])).code, 0)
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])).code, 0)
    // mallory lets anyone use "web", and counts every byte that reaches it
    let bytes = 0
    let connections = 0
    sink.on('connection', (s) => { connections++; s.on('data', (b: Buffer) => { bytes += b.length }) })
    sink.listen(0, '127.0.0.1')
    await once(sink, 'listening')
    assert.equal((await runCli(mallory.home, ['expose', 'web', `127.0.0.1:${(sink.address() as { port: number }).port}`])).code, 0)

    const bobD = await startDaemon(bob.home, boot)
    const aliceD = await startDaemon(alice.home, boot)
    assert.ok(aliceD)
    const bobPort = /\/tcp\/(\d+)\//.exec(bobD.addresses[0])?.[1]
    assert.ok(bobPort)
    await waitOnline(alice.home, 'bob')
    // alice learns bob's address, then bob dies without signing off
    const warm = await runCli(alice.home, ['connect', 'bob', 'nothing'])
    assert.match(warm.stderr, /bob has no service "nothing"/)
    await bobD.kill()
    // mallory takes bob's port
    const malloryD = await startDaemon(mallory.home, ['--listen', `/ip4/127.0.0.1/tcp/${bobPort}`])
    assert.ok(malloryD.addresses[0].includes(`/tcp/${bobPort}/`))
    await runCli(mallory.home, ['rules', 'add', 'allow', 'anyone', 'web'])

    const r = await runCli(alice.home, ['connect', 'bob', 'web'], { input: 'secret application bytes' })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /cannot reach bob|bob is offline/)
    assert.equal(connections, 0, 'mallory\'s service saw a connection')
    assert.equal(bytes, 0, 'mallory\'s service received bytes')
  })
})
