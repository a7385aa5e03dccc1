import { performance } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { memory } from '@libp2p/memory'
import { plaintext } from '@libp2p/plaintext'
import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import { createNetworkNode, decodePresence, encodePresence, presenceKey, type NetworkNode } from '../../src/network/index.js'
import { summarize, type Summary } from '../stats.js'

export interface DhtScaleRun {
  nodes: number
  killedPercent: number
  lookups: number
  successRate: number
  latencyMs: Summary
  /** DHT request messages sent per lookup (SEND_QUERY events). */
  messagesPerLookup: Summary
}

export interface DhtScaleResult { transport: string, memoryPerNodeMiB: number, setupSeconds: number, runs: DhtScaleRun[] }

interface SimNode { node: NetworkNode, key: PrivateKey, alive: boolean }

const HOUR = 3600_000

/**
 * The DHT at scale, in one process: N nodes with cspace's DHT settings
 * (protocol, validators, selectors, server mode) over libp2p's in-memory
 * transport with plaintext (encryption is not what is measured here). Every
 * node publishes a presence record; random nodes look random users up; then
 * 20% of the nodes are stopped without republishing and the lookups repeat.
 */
export async function measureDhtScale (opts: { nodes: number, lookups: number, killPercent: number }): Promise<DhtScaleResult> {
  const t0 = performance.now()
  global.gc?.()
  const rss0 = process.memoryUsage().rss
  const sims: SimNode[] = []
  const run = Math.random().toString(36).slice(2, 8)
  for (let i = 0; i < opts.nodes; i++) {
    const key = await generateKeyPair('Ed25519')
    const node = await createNetworkNode({
      privateKey: key,
      simulation: { transports: [memory()], connectionEncrypters: [plaintext()] }
    }, { listen: [`/memory/${run}-${i}`], bootstrap: [], allowPrivateAddresses: true, inboundConnectionsPerIpPerSecond: 100_000, maxConnections: 200, router: false })
    await node.start()
    sims.push({ node, key, alive: true })
  }
  // each node joins through a few earlier ones, as bootstrap would
  for (let i = 1; i < sims.length; i++) {
    const targets = new Set([0, Math.floor(Math.random() * i), Math.floor(Math.random() * i)])
    for (const t of targets) await sims[i].node.dial(multiaddr(`/memory/${run}-${t}`)).catch(() => {})
  }
  // let routing tables fill: every node looks itself up once
  await parallel(sims, 16, async (s) => { for await (const _ of s.node.services.dht.getClosestPeers(s.node.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(30_000) })) {} })
  // every node publishes its presence
  await parallel(sims, 16, async (s) => {
    const value = await encodePresence(s.key, { addresses: [`/memory/${run}-x`], seq: Date.now(), expires: Date.now() + HOUR, online: true })
    for await (const _ of s.node.services.dht.put(presenceKey(s.node.peerId), value, { signal: AbortSignal.timeout(30_000) })) {}
  }).catch(() => {})
  const memoryPerNodeMiB = (process.memoryUsage().rss - rss0) / 2 ** 20 / opts.nodes
  const setupSeconds = (performance.now() - t0) / 1000

  const runs: DhtScaleRun[] = [await lookups(sims, opts.lookups, 0)]
  // stop 20% without a goodbye record: their records must still be found on others
  const victims = shuffle(sims.slice()).slice(0, Math.floor(sims.length * opts.killPercent / 100))
  await Promise.all(victims.map(async (v) => { v.alive = false; await v.node.stop() }))
  runs.push(await lookups(sims, opts.lookups, opts.killPercent))
  await Promise.all(sims.filter(s => s.alive).map(async (s) => await s.node.stop()))
  return { transport: 'in-process, @libp2p/memory + plaintext', memoryPerNodeMiB, setupSeconds, runs }
}

async function lookups (sims: SimNode[], count: number, killedPercent: number): Promise<DhtScaleRun> {
  const alive = sims.filter(s => s.alive)
  const ms: number[] = []
  const messages: number[] = []
  let ok = 0
  await parallel(Array.from({ length: count }, (_, i) => i), 8, async () => {
    const seeker = alive[Math.floor(Math.random() * alive.length)]
    const target = sims[Math.floor(Math.random() * sims.length)]
    const key = presenceKey(target.node.peerId)
    const t0 = performance.now()
    let sent = 0
    let found = false
    try {
      for await (const e of seeker.node.services.dht.get(key, { signal: AbortSignal.timeout(30_000) })) {
        if (e.name === 'SEND_QUERY') sent++
        if (e.name === 'VALUE') found = (await decodePresence(key, e.value)).peerId.equals(target.node.peerId)
      }
    } catch {}
    ms.push(performance.now() - t0)
    messages.push(sent)
    if (found) ok++
  })
  return { nodes: sims.length, killedPercent, lookups: count, successRate: ok / count, latencyMs: summarize(ms), messagesPerLookup: summarize(messages) }
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
