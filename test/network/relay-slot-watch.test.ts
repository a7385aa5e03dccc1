import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection } from '@libp2p/interface'
import { watchRelaySlots } from '../../src/network/relay-slot-watch.js'
import { createLoopbackNode, reserveAtRouter } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import { freezableProxy, tcpPort, via } from '../helpers/freezable-proxy.js'

// libp2p's own pings off: only the watch can find a dead connection
const NO_PINGS = { pingIntervalMs: 0 }

describe('watchRelaySlots', () => {
  test('the connection to a router bob holds a slot on: kept while it answers, closed once it goes silent', async () => {
    const router = await createLoopbackNode({ ...NO_PINGS, router: true })
    const [bob, other] = await Promise.all([createLoopbackNode(NO_PINGS), createLoopbackNode(NO_PINGS)])
    const proxy = await freezableProxy(tcpPort(router))
    try {
      await reserveAtRouter(router, bob, via(proxy, router))
      await bob.dial(other.getMultiaddrs()[0]) // a peer he holds no slot on: not pinged
      const pings: Array<{ connection: Connection, closed: boolean }> = []
      watchRelaySlots(bob, { intervalMs: 200, timeoutMs: 1000, onPing: (connection, closed) => pings.push({ connection, closed }) })

      await waitFor('three pings answered', () => pings.length >= 3, 10_000, 20)
      assert.ok(pings.every(p => !p.closed && p.connection.remotePeer.equals(router.peerId)), 'only the router pinged, every ping answered')
      const [toRouter] = bob.getConnections(router.peerId)
      assert.equal(toRouter.status, 'open')

      proxy.freeze()
      await waitFor('the silent connection closed', () => pings.some(p => p.closed) && toRouter.status !== 'open', 10_000, 20)
      assert.equal(bob.getConnections(other.peerId)[0]?.status, 'open', 'the other peer\'s connection untouched')
    } finally {
      proxy.close()
      await Promise.all([bob.stop(), other.stop(), router.stop()])
    }
  })
})
