import { startReadyProcess, type ReadyProcess } from './ready-process.js'

/**
 * Plain DHT servers with the daemon's own network stack (TCP, TLS, yamux,
 * cspace's Kademlia), joining through the router as a daemon does. They make
 * the DHT larger than Kademlia's k = 20, so that a new user is not connected
 * to everyone and a first connect really looks presence up.
 *
 * They run in a process of their own (dht-peers-process.ts): in the bench's
 * process, their work answering a lookup held up the measuring client and the
 * echo server on the same event loop, and cold connect counted it
 * (docs/BENCHMARKS.md, "Cold connect: the instrument's own load").
 */
export async function startDhtPeers (count: number, bootstrap: string, timeoutMs = 120_000): Promise<ReadyProcess> {
  return await startReadyProcess('./dht-peers-process.js', [String(count), bootstrap], `the ${count} DHT peers' process`, timeoutMs)
}
