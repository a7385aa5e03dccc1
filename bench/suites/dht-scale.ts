import { performance } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { memory } from '@libp2p/memory'
import { plaintext } from '@libp2p/plaintext'
import { multiaddr } from '@multiformats/multiaddr'
import { sha256 } from 'multiformats/hashes/sha2'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, type QueryEvent } from '@libp2p/kad-dht'
import { cspaceDhtInit, DhtDatastore, encodePresence, presenceKey, PresenceResolver, type NetworkNode } from '../../src/network/index.js'
import { summarize, type Summary } from '../stats.js'

export interface DhtScaleRun {
  killedPercent: number
  lookups: number
  successRate: number
  latencyMs: Summary
  /** DHT requests sent per lookup (SEND_QUERY events). */
  messagesPerLookup: Summary
  /** Requests per lookup that failed or timed out (QUERY_ERROR events), and the same for failed lookups only. */
  requestErrorsPerLookup: Summary
  requestErrorsPerFailedLookup: Summary
}

export interface DhtScaleResult {
  nodes: number
  method: string
  setupSeconds: number
  /** Resident memory added per simulated node, with its routing table, records and connections. */
  memoryPerNodeMiB: number
  /** Share of nodes whose presence put was accepted by at least one peer, and by how many. */
  publish: { successRate: number, peersPerPut: Summary }
  runs: DhtScaleRun[]
}

interface SimNode { node: NetworkNode, key: PrivateKey, address: string, kadId: Uint8Array, alive: boolean }

/** The parts of kad-dht's routing table the simulation seeds directly (not public API). */
interface SeedableDht {
  routingTable: { kb?: { _add: (peer: { peerId: PeerId, kadId: Uint8Array, lastPing: number }) => Promise<void>, toIterable: () => Iterable<{ peerId: PeerId }> } }
}

const HOUR = 3600_000
/** Operations in flight at once: the simulated network shares one core, a real one has a core per node. */
const CONCURRENCY = 4

/**
 * The DHT at scale, in one process: N nodes with cspace's DHT settings
 * (protocol, validators, selectors, server mode) over libp2p's in-memory
 * transport with plaintext (encryption is not what is measured here).
 *
 * Routing tables start converged: each node's table is filled with every other
 * node, through the table's own bucket rules, as a long-running network's
 * would be. Joining organically costs each node hundreds of DHT requests
 * (self-query, table refresh, contact pings), which on one core makes a
 * thousand-node join take hours; that is also why the periodic self-query is
 * off here. Everything measured then runs kad-dht's real code over real
 * libp2p connections: every node publishes its presence with dht.put, random
 * nodes look random users up with cspace's PresenceResolver (dht.get, early quorum); then 20% of the nodes are stopped
 * without warning (no offline record, tables not told) and the lookups repeat.
 */
export interface DhtScaleOptions { nodes: number, lookups: number, killPercent: number, progress?: (line: string) => void }

export async function measureDhtScale (opts: DhtScaleOptions): Promise<DhtScaleResult> {
  const stackTraceLimit = Error.stackTraceLimit
  // every failed DHT request builds an AbortError; its stack is a tenth of the CPU here
  Error.stackTraceLimit = 0
  try {
    return await simulate(opts)
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
}

async function simulate (opts: DhtScaleOptions): Promise<DhtScaleResult> {
  const t0 = performance.now()
  const progress = (what: string): void => opts.progress?.(`${opts.nodes} nodes, ${((performance.now() - t0) / 1000).toFixed(0)} s: ${what}`)
  global.gc?.()
  const rss0 = process.memoryUsage().rss
  const sims: SimNode[] = []
  const run = Math.random().toString(36).slice(2, 8)
  for (let i = 0; i < opts.nodes; i++) {
    const key = await generateKeyPair('Ed25519')
    const address = `/memory/${run}-${i}`
    const node = await createSimNode(key, address)
    await node.start()
    sims.push({ node, key, address, kadId: (await sha256.digest(node.peerId.toMultihash().bytes)).digest, alive: true })
  }
  progress('started')
  await seedRoutingTables(sims)
  progress('routing tables seeded')

  const peersPerPut: number[] = []
  await parallel(sims, CONCURRENCY, async (s) => {
    const value = await encodePresence(s.key, { addresses: [s.address], seq: Date.now(), expires: Date.now() + HOUR, online: true })
    let peers = 0
    try {
      for await (const e of s.node.services.dht.put(presenceKey(s.node.peerId), value, { signal: AbortSignal.timeout(30_000) })) {
        if (e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE') peers++
      }
    } catch {}
    peersPerPut.push(peers)
    if (peersPerPut.length % 100 === 0) progress(`${peersPerPut.length} published`)
  })
  global.gc?.()
  const memoryPerNodeMiB = (process.memoryUsage().rss - rss0) / 2 ** 20 / opts.nodes
  const setupSeconds = (performance.now() - t0) / 1000

  const runs: DhtScaleRun[] = [await lookups(sims, opts.lookups, 0, progress)]
  progress('lookups done')
  const victims = shuffle(sims.slice()).slice(0, Math.floor(sims.length * opts.killPercent / 100))
  for (const v of victims) v.alive = false
  await Promise.all(victims.map(async (v) => { await v.node.stop() }))
  runs.push(await lookups(sims, opts.lookups, opts.killPercent, progress))
  await Promise.all(sims.filter(s => s.alive).map(async (s) => { await s.node.stop() }))
  return {
    nodes: opts.nodes,
    method: 'in-process, @libp2p/memory + plaintext, converged routing tables',
    setupSeconds,
    memoryPerNodeMiB,
    publish: { successRate: peersPerPut.filter(n => n > 0).length / sims.length, peersPerPut: summarize(peersPerPut) },
    runs
  }
}

/**
 * One simulated node: cspace's DHT settings (cspaceDhtInit) on libp2p's
 * in-memory transport with plaintext. Per-node upkeep that a real node pays on
 * its own core is off, as one core carries them all here: liveness pings on
 * every connection every 10 s, identify on every new connection (which feeds
 * the routing table, already complete here, and pings each new contact), and
 * the periodic self-query.
 */
async function createSimNode (privateKey: PrivateKey, address: string): Promise<NetworkNode> {
  const datastore = new DhtDatastore()
  return await createLibp2p({
    privateKey,
    datastore,
    addresses: { listen: [address] },
    transports: [memory()],
    connectionEncrypters: [plaintext()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 300, inboundConnectionThreshold: 100_000, maxIncomingPendingConnections: 100_000 },
    connectionMonitor: { enabled: false },
    services: {
      identify: identify({ runOnConnectionOpen: false }),
      ping: ping(),
      dht: kadDHT({
        ...cspaceDhtInit(datastore, { server: true, allowPrivateAddresses: true, allowQueryWithZeroPeers: true }),
        querySelfInterval: 24 * HOUR,
        initialQuerySelfInterval: 24 * HOUR
      })
    }
  })
}

/** Offers every node every other node, in random order; the table's bucket rules decide who stays. */
async function seedRoutingTables (sims: SimNode[]): Promise<void> {
  const now = Date.now()
  const byId = new Map(sims.map(o => [o.node.peerId.toString(), o]))
  for (const s of sims) {
    const kb = (s.node.services.dht as unknown as SeedableDht).routingTable.kb
    if (kb == null) throw new Error('kad-dht routing table not started')
    for (const other of shuffle(sims.slice())) {
      if (other === s) continue
      // lastPing = now: a contact seen just now, so the table does not ping it first
      await kb._add({ peerId: other.node.peerId, kadId: other.kadId, lastPing: now })
    }
    for (const { peerId } of kb.toIterable()) {
      const other = byId.get(peerId.toString())
      if (other != null) await s.node.peerStore.merge(peerId, { multiaddrs: [multiaddr(other.address)] })
    }
  }
}

async function lookups (sims: SimNode[], count: number, killedPercent: number, progress: (what: string) => void): Promise<DhtScaleRun> {
  const alive = sims.filter(s => s.alive)
  const ms: number[] = []
  const messages: number[] = []
  const errors: number[] = []
  const errorsWhenFailed: number[] = []
  let ok = 0
  await parallel(Array.from({ length: count }, (_, i) => i), CONCURRENCY, async () => {
    const seeker = alive[Math.floor(Math.random() * alive.length)]
    // any user, dead or alive: a dead node's record lives on at the others
    const target = sims[Math.floor(Math.random() * sims.length)]
    const counts = { sent: 0, errors: 0 }
    // cspace's own lookup (early quorum, checks), as a daemon runs it, with a fresh cache
    const resolver = new PresenceResolver({ node: countingNode(seeker.node, counts) }, { lookupTimeoutMs: 30_000 })
    const t0 = performance.now()
    const found = (await resolver.lookup(target.node.peerId).catch(() => undefined))?.peerId.equals(target.node.peerId) === true
    ms.push(performance.now() - t0)
    messages.push(counts.sent)
    errors.push(counts.errors)
    if (found) ok++
    else errorsWhenFailed.push(counts.errors)
    if (ms.length % 50 === 0) progress(`${ms.length} lookups (${killedPercent}% killed), ${ok} found, slowest ${Math.max(...ms).toFixed(0)} ms, ${connectionCount(sims)} connections`)
  })
  return {
    killedPercent,
    lookups: count,
    successRate: ok / count,
    latencyMs: summarize(ms),
    messagesPerLookup: summarize(messages),
    requestErrorsPerLookup: summarize(errors),
    requestErrorsPerFailedLookup: summarize(errorsWhenFailed)
  }
}

/** The node as the resolver sees it, counting the DHT requests its queries send and lose. */
function countingNode (node: NetworkNode, counts: { sent: number, errors: number }): NetworkNode {
  const get = async function * (key: Uint8Array, options?: Parameters<NetworkNode['services']['dht']['get']>[1]): AsyncGenerator<QueryEvent> {
    for await (const e of node.services.dht.get(key, options)) {
      if (e.name === 'SEND_QUERY') counts.sent++
      if (e.name === 'QUERY_ERROR') counts.errors++
      yield e
    }
  }
  return { services: { dht: { get } } } as unknown as NetworkNode
}

function connectionCount (sims: SimNode[]): number {
  return sims.reduce((n, s) => n + (s.alive ? s.node.getConnections().length : 0), 0) / 2
}

async function parallel<T> (items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]
      await fn(item).catch(() => {})
    }
  }))
}

function shuffle<T> (a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]]
  }
  return a
}
