import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PING_PROTOCOL } from '@libp2p/ping'
import { answersPing, closeIfSilent } from '../../src/network/connection-ping.js'
import { createLoopbackNode } from '../helpers/nodes.js'
import { freezableProxy, tcpPort, via } from '../helpers/freezable-proxy.js'

// libp2p's own pings off: only these tests ping
const NO_PINGS = { pingIntervalMs: 0 }

test('pings of ours asked for at once are one on the wire: libp2p\'s monitor still finds a free ping stream (refused, it closes the connection)', async () => {
  const [alice, bob] = await Promise.all([createLoopbackNode(NO_PINGS), createLoopbackNode(NO_PINGS)])
  try {
    const connection = await alice.dial(bob.getMultiaddrs()[0])
    // a stale-connection probe and the relay-slot watch at once, then what libp2p's connection monitor does
    const ours = [answersPing(connection), answersPing(connection)]
    const monitors = await connection.newStream(PING_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(5000) }).then(s => { s.abort(new Error('done')); return 'opened' }, (err: Error) => err.name)
    assert.equal(monitors, 'opened')
    assert.deepEqual(await Promise.all(ours), [true, true])
  } finally {
    await Promise.all([alice.stop(), bob.stop()])
  }
})

test('closeIfSilent: a live connection stays; one gone silent is closed once the timeout passes', async () => {
  const [alice, bob] = await Promise.all([createLoopbackNode(NO_PINGS), createLoopbackNode(NO_PINGS)])
  const proxy = await freezableProxy(tcpPort(bob))
  try {
    const connection = await alice.dial(via(proxy, bob))
    assert.equal(await closeIfSilent(connection, 'a test', 1000), false)
    assert.equal(connection.status, 'open')
    proxy.freeze()
    assert.equal(await closeIfSilent(connection, 'a test', 1000), true)
    assert.notEqual(connection.status, 'open')
  } finally {
    proxy.close()
    await Promise.all([alice.stop(), bob.stop()])
  }
})
