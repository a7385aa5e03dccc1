import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetworkNode, type NetworkNode } from '../src/network/index.js'

/**
 * Plain DHT servers in the bench process, with the daemon's own network stack
 * (TCP, TLS, yamux, cspace's Kademlia), joining through the router as a daemon
 * does. They make the DHT larger than Kademlia's k = 20, so that a new user is
 * not connected to everyone and a first connect really looks presence up.
 */
export async function startDhtPeers (count: number, bootstrap: string): Promise<{ nodes: NetworkNode[], stop: () => Promise<void> }> {
  // started together, as a running network would already be
  const nodes: NetworkNode[] = await Promise.all(Array.from({ length: count }, async () => {
    const node = await createNetworkNode({ privateKey: await generateKeyPair('Ed25519') }, {
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [bootstrap],
      allowPrivateAddresses: true,
      inboundConnectionsPerIpPerSecond: 1000,
      maxConnections: 300,
      router: false
    })
    await node.start()
    return node
  }))
  return { nodes, stop: async () => { await Promise.all(nodes.map(async n => { await n.stop() })) } }
}
