/**
 * The bench's plain DHT servers (dht-peers.ts), in their own process:
 * `node dht-peers-process.js COUNT BOOTSTRAP`. Prints "ready" once all have
 * started; stops them and exits when its stdin ends (the bench is done, or gone).
 */
import type { NetworkNode } from '../src/network/index.js'
import { createLoopbackNode } from '../test/helpers/nodes.js'

const [count, bootstrap] = [Number(process.argv[2]), process.argv[3]]
if (!Number.isInteger(count) || count < 1 || bootstrap == null) {
  process.stderr.write('usage: dht-peers-process.js COUNT BOOTSTRAP-MULTIADDR\n')
  process.exit(2)
}
// started together, as a running network would already be
const nodes: NetworkNode[] = await Promise.all(Array.from({ length: count }, async () => {
  const node = await createLoopbackNode({ bootstrap: [bootstrap] })
  await node.start()
  return node
}))
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => {
  void Promise.all(nodes.map(async n => { await n.stop() })).finally(() => process.exit(0))
})
