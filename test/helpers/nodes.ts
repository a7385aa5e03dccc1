import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, PrivateKey } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createNetworkNode, type NetworkInit, type NetworkNode } from '../../src/network/index.js'

/** The daemon's network settings for a node on 127.0.0.1 among many others on the same IP. */
export function loopbackInit (overrides: Partial<NetworkInit> = {}): NetworkInit {
  return { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], allowPrivateAddresses: true, inboundConnectionsPerIpPerSecond: 1000, maxConnections: 300, router: false, ...overrides }
}

/** An in-process libp2p node with the daemon's stack, started (createLibp2p starts it), with a new key unless given one. */
export async function createLoopbackNode (overrides: Partial<NetworkInit> = {}, privateKey?: PrivateKey): Promise<NetworkNode> {
  return await createNetworkNode({ privateKey: privateKey ?? await generateKeyPair('Ed25519') }, loopbackInit(overrides))
}

/** Two such nodes on 127.0.0.1, for tests of one connection between them. */
export async function createLoopbackPair (): Promise<[NetworkNode, NetworkNode]> {
  return await Promise.all([createLoopbackNode(), createLoopbackNode()])
}

/** Bob takes a slot on `router` (a relay reservation), reaching it at `routerAddress` (default: its first); the address that reaches him through it. */
export async function reserveAtRouter (router: NetworkNode, bob: NetworkNode, routerAddress?: Multiaddr): Promise<Multiaddr> {
  const routerAddr = (routerAddress ?? router.getMultiaddrs()[0]).toString()
  await bob.dial(multiaddr(routerAddr))
  await (bob as unknown as { components: { transportManager: { listen: (a: Multiaddr[]) => Promise<void> } } }).components.transportManager.listen([multiaddr(`${routerAddr}/p2p-circuit`)])
  return multiaddr(`${routerAddr}/p2p-circuit/p2p/${bob.peerId.toString()}`)
}

/** Bob takes a slot on `router`, and alice dials him through it: her relayed (limited) connection. */
export async function connectThroughRouter (router: NetworkNode, alice: NetworkNode, bob: NetworkNode): Promise<Connection> {
  return await alice.dial(await reserveAtRouter(router, bob), { signal: AbortSignal.timeout(20_000) })
}
