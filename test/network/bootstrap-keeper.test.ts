import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { cleanupAll, makeProfile, runCli, startDaemon } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

after(async () => { await cleanupAll() })

interface Status { node: { connections: number, isolated: string | null } }

test('a daemon whose router is down at start says so, and joins once the router is up', async () => {
  // the router's address, then the router gone: its port and peer ID are known, nothing answers there
  const router = await makeProfile('router')
  let routerD = await startDaemon(router.home, ['--router', '--no-apps'])
  const address = routerD.addresses[0]
  const port = /\/tcp\/(\d+)\//.exec(address)![1]
  await routerD.stop()

  const alice = await makeProfile('alice')
  const bob = await makeProfile('bob')
  assert.equal((await runCli(alice.home, ['contacts', 'add', 'bob', bob.userId])).code, 0)
  const aliceD = await startDaemon(alice.home, ['--bootstrap', address, '--no-apps'])
  await waitFor('the warning on alice\'s stderr', () => aliceD.stderr().includes('cspace: none of the 1 bootstrap address(es) answered'), 30_000, 100)
  assert.match(aliceD.stderr(), /; contacts cannot be found until one does \(retried, up to every minute; see cspace status\)\n/)
  const alone = await runCli(alice.home, ['status'])
  assert.match(alone.stdout, /^network {5}not joined: none of the 1 bootstrap address\(es\) answered .*; retrying$/m)
  const connect = await runCli(alice.home, ['connect', 'bob', 'web'])
  assert.equal(connect.code, 1)
  assert.match(connect.stderr, /^cspace: cannot reach bob: this daemon is not connected to the network \(no peers\); check its bootstrap addresses/)

  routerD = await startDaemon(router.home, ['--router', '--no-apps', '--listen', `/ip4/127.0.0.1/tcp/${port}`])
  assert.equal(routerD.addresses[0], address, 'the router is back where alice looks for it')
  const joined = await waitFor('alice joined through the router', async () => {
    const s = JSON.parse((await runCli(alice.home, ['status', '--json'])).stdout) as Status
    return s.node.connections > 0 && s.node.isolated == null ? s : undefined
  }, 120_000, 1000)
  assert.equal(joined.node.isolated, null)
  assert.doesNotMatch((await runCli(alice.home, ['status'])).stdout, /not joined/)
})
