import type { NetworkNode } from '../src/network/index.js'
import { createLoopbackNode } from '../test/helpers/nodes.js'

/**
 * Plain DHT servers in the bench process, with the daemon's own network stack
 * (TCP, TLS, yamux, cspace's Kademlia), joining through the router as a daemon
 * does. They make the DHT larger than Kademlia's k = 20, so that a new user is
 * not connected to everyone and a first connect really looks presence up.
 */
export async function startDhtPeers (count: number, bootstrap: string): Promise<{ nodes: NetworkNode[], stop: () => Promise<void> }> {
  // started together, as a running network would already be
  const nodes: NetworkNode[] = await Promise.all(Array.from({ length: count }, async () => {
    const node = await createLoopbackNode({ bootstrap: [bootstrap] })
    await node.start()
    return node
  }))
  return { nodes, stop: async () => { await Promise.all(nodes.map(async n => { await n.stop() })) } }
}
