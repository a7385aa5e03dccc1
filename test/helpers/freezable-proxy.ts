import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { NetworkNode } from '../../src/network/index.js'

/**
 * A TCP proxy to 127.0.0.1:`port` that can go silent: frozen, it keeps every
 * socket open and forwards nothing, neither bytes nor closes — a path whose
 * NAT mapping vanished when the user's public address changed.
 */
export async function freezableProxy (port: number): Promise<{ port: number, freeze: () => void, close: () => void }> {
  let frozen = false
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    for (const [from, to] of [[client, upstream], [upstream, client]]) {
      sockets.add(from)
      from.on('data', (b: Buffer) => { if (!frozen) to.write(b) })
      from.on('end', () => { if (!frozen) to.end() })
      from.on('error', () => { if (!frozen) to.destroy() })
      from.on('close', () => sockets.delete(from))
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as { port: number }).port,
    freeze: () => { frozen = true },
    close: () => { server.close(); for (const s of sockets) s.destroy() }
  }
}

/** `node`'s address through `proxy`. */
export function via (proxy: { port: number }, node: NetworkNode): Multiaddr {
  return multiaddr(`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${node.peerId.toString()}`)
}

/** The TCP port `node` listens on (its first address). */
export function tcpPort (node: NetworkNode): number {
  return Number(node.getMultiaddrs()[0].toString().split('/tcp/')[1].split('/')[0])
}
