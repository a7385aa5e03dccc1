import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { closeStaleConnections } from '../../src/network/stale-connections.js'
import { answersPing } from '../../src/network/connection-ping.js'
import { createLoopbackNode, reserveAtRouter } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import { freezableProxy, tcpPort, via } from '../helpers/freezable-proxy.js'

// libp2p's own pings off (pingIntervalMs 0): only the probe can find a dead connection
const NO_PINGS = { pingIntervalMs: 0 }

describe('closeStaleConnections', () => {
  test('a newer connection from a peer: the older one, gone silent, is closed within the probe timeout; the newer one carries on', async () => {
    const [alice, bob] = await Promise.all([createLoopbackNode(NO_PINGS), createLoopbackNode(NO_PINGS)])
    const [proxy1, proxy2] = await Promise.all([freezableProxy(tcpPort(bob)), freezableProxy(tcpPort(bob))])
    try {
      const old = await alice.dial(via(proxy1, bob))
      await waitFor('bob holding the first connection', () => bob.getConnections(alice.peerId).length === 1)
      const bobsOld = bob.getConnections(alice.peerId)[0]
      proxy1.freeze()
      const fresh = await alice.dial(via(proxy2, bob), { force: true })
      assert.notEqual(fresh, old)
      await waitFor('both sides closing the silent connection', () => bobsOld.status !== 'open' && old.status !== 'open', 15_000, 50)
      assert.deepEqual(bob.getConnections(alice.peerId).map(c => c.status), ['open'])
      assert.equal(await answersPing(fresh, 5000), true)
    } finally {
      proxy1.close()
      proxy2.close()
      await Promise.all([alice.stop(), bob.stop()])
    }
  })

  test('an older connection that answers stays open, with a stream on it still working', async () => {
    const [alice, bob] = await Promise.all([createLoopbackNode(NO_PINGS), createLoopbackNode(NO_PINGS)])
    try {
      const older = await alice.dial(bob.getMultiaddrs()[0])
      await waitFor('bob holding the first connection', () => bob.getConnections(alice.peerId).length === 1)
      const probed: Array<{ connection: Connection, closed: boolean }> = []
      // a second watcher on bob, to be told when his probe of the older connection is done
      closeStaleConnections(bob, { onProbe: (connection, closed) => probed.push({ connection, closed }) })
      await alice.dial(bob.getMultiaddrs()[0], { force: true })
      const outcome = await waitFor('bob\'s probe of the older connection', () => probed[0], 10_000, 20)
      assert.equal(outcome.closed, false)
      assert.equal(outcome.connection.remotePeer.toString(), alice.peerId.toString())
      assert.equal(older.status, 'open')
      assert.equal(bob.getConnections(alice.peerId).length, 2)
      assert.equal(await answersPing(older, 5000), true)
    } finally {
      await Promise.all([alice.stop(), bob.stop()])
    }
  })

  test('a router: once bob\'s connection to it goes silent and he connects again, alice reaches him through it', async () => {
    const router = await createLoopbackNode({ ...NO_PINGS, router: true })
    const [alice, bob] = await Promise.all([createLoopbackNode(NO_PINGS), createLoopbackNode(NO_PINGS)])
    const [proxy1, proxy2] = await Promise.all([freezableProxy(tcpPort(router)), freezableProxy(tcpPort(router))])
    try {
      await reserveAtRouter(router, bob, via(proxy1, router))
      const throughRouter = multiaddr(`${router.getMultiaddrs()[0].toString()}/p2p-circuit/p2p/${bob.peerId.toString()}`)
      const first = await alice.dial(throughRouter, { signal: AbortSignal.timeout(10_000) })
      await first.close()

      proxy1.freeze() // bob's public address changed: his first connection to the router is dead
      await bob.dial(via(proxy2, router), { force: true })
      const again = await waitFor('alice through the router again', async () => {
        // force: not a direct connection DCUtR may have opened meanwhile
        const c = await alice.dial(throughRouter, { force: true, signal: AbortSignal.timeout(3000) })
        return await answersPing(c, 3000) ? c : undefined
      }, 20_000, 200)
      assert.equal(again.remotePeer.toString(), bob.peerId.toString())
      assert.ok(again.remoteAddr.toString().includes('/p2p-circuit'), `relayed: ${again.remoteAddr.toString()}`)
      assert.equal(router.getConnections(bob.peerId).length, 1, 'the router closed the silent connection')
    } finally {
      proxy1.close()
      proxy2.close()
      await Promise.all([alice.stop(), bob.stop(), router.stop()])
    }
  })
})
