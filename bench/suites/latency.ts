import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Sshd } from '../../test/helpers/sshd.js'
import { runCli } from '../../test/helpers/cli.js'
import { LocalApiClient } from '../../src/sdk/api-client.js'
import { waitFor } from '../../test/helpers/wait.js'
import { echoProcess, exec, sshArgs, sshTunnel, waitForQuiet } from '../tools.js'
import { summarize, type Summary } from '../stats.js'
import type { Topology } from '../topology.js'
import { startDhtPeers } from '../dht-peers.js'
import { startRelayPair } from '../relay-pair.js'

export interface LatencyResult {
  ms: Record<string, Summary>
  /** DHT servers: the router, alice, bob, the new users and the bench's plain DHT peers. */
  dhtSize: number
  /** New users still connected to bob (kad-dht keep-alive) after hanging up, before their first connect. */
  firstConnectAlreadyConnected: number
  /** First connects that failed (no byte came back), and why, as the forward recorded it. */
  firstConnectFailures: number
  firstConnectErrors: string[]
  /** New users whose daemon had gone quiet (start-up work done) before their first connect. */
  usersSettled: number
  /** Whether all daemons and DHT peers together had gone quiet before the first connects, and after how long. */
  networkSettled: boolean
  networkSettleSeconds: number
}

/** The parts of GET /v1/status read here. */
interface Status { presence?: { peers: number, at: number }, forwards?: Array<{ lastError?: string }> }

/** ms from TCP connect() until one byte has made the round trip through the service. */
export async function roundTrip (port: number, timeoutMs = 30_000): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const t0 = performance.now()
    const s = connect(port, '127.0.0.1', () => s.write('x'))
    // a path that accepts and then goes silent is an error, not a bench that never ends
    s.setTimeout(timeoutMs, () => { s.destroy(new Error(`no byte back from port ${port} within ${timeoutMs} ms`)) })
    s.once('data', () => { const ms = performance.now() - t0; s.destroy(); resolve(ms) })
    s.on('error', reject)
    s.once('close', () => reject(new Error('closed before the byte came back')))
  })
}

/**
 * The share of one core that all daemons and DHT peers together may use
 * for the network to count as settled before the cold connects. Idle, the
 * 80-odd nodes use 15-25% of a core between them (pings, table upkeep).
 */
export const NETWORK_QUIET_SHARE = 0.3

/** The warm path's floor: two Node processes relaying over open TLS connections (bench/relay-pair.ts). */
export const RELAY_PAIR = 'Node relay pair (TLS)'

/** Round trips on every path before the warm samples are taken. */
export const WARM_UP_ROUNDS = 50

/**
 * Connect latency: warm (cspace already connected to the peer) against direct
 * and an ssh -L whose session is up; a fresh ssh connection; and cold — a user
 * who has never reached bob, so presence is looked up in the DHT first.
 */
export async function measureLatency (topo: Topology, sshd: Sshd, opts: LatencyOptions, progress: (s: string) => void = () => {}): Promise<LatencyResult> {
  // the service in a process of its own, as a real one is: direct then wakes
  // a second process too (docs/BENCHMARKS.md, "the service in its own process")
  const echo = await echoProcess()
  try {
    return await measureLatencyTo(echo, topo, sshd, opts, progress)
  } finally {
    await echo.stop()
  }
}

interface LatencyOptions { samples: number, coldUsers: number, freshSsh: number, dhtPeers: number }

async function measureLatencyTo (echo: { port: number }, topo: Topology, sshd: Sshd, opts: LatencyOptions, progress: (s: string) => void): Promise<LatencyResult> {
  // one pre-opened TLS connection per round trip it will carry
  const relays = await startRelayPair(echo.port, WARM_UP_ROUNDS + opts.samples)
  let samples: Record<string, number[]>
  try {
    const paths: Record<string, number> = {
      direct: echo.port,
      [RELAY_PAIR]: relays.port,
      'ssh -L (session up)': await sshTunnel(sshd, echo.port),
      'cspace warm': await topo.tunnel('echo', echo.port)
    }
    samples = Object.fromEntries(Object.keys(paths).map(k => [k, []]))
    // Warm-up, not counted: the first connect opens the spare streams, and the
    // first few dozen run the daemons' code in V8's interpreter; "warm" is a
    // daemon that has been up a while (docs/BENCHMARKS.md, warm connect)
    for (let i = 0; i < WARM_UP_ROUNDS; i++) {
      for (const port of Object.values(paths)) await roundTrip(port)
    }
    for (let i = 0; i < opts.samples; i++) {
      for (const [name, port] of Object.entries(paths)) samples[name].push(await roundTrip(port))
    }
  } finally {
    await relays.stop()
  }

  samples['ssh fresh'] = []
  for (let i = 0; i < opts.freshSsh; i++) {
    const t0 = performance.now()
    await exec('ssh', [...sshArgs(sshd), 'root@127.0.0.1', 'printf x'])
    samples['ssh fresh'].push(performance.now() - t0)
  }

  // cold: new users join the DHT, each reaches bob for the first time. Plain
  // DHT peers make the DHT larger than k = 20; still, a new node's start-up
  // table refresh reaches most of an 80-node DHT, bob included. So the user
  // hangs up on bob first (`cspace hangup`, bob's ID) and, after a moment for
  // a DHT query that connects them again (the hang-up holds off kad-dht's
  // keep-alive re-dial on both sides, not the DHT's own queries), the first
  // connect is counted cold only if no connection to bob is open: it must
  // look bob's presence up in the DHT, dial and handshake.
  await runCli(topo.bob.home, ['rules', 'add', 'allow', 'anyone', 'echo'])
  progress('connect latency: warm and ssh done; starting the DHT')
  const peers = await startDhtPeers(opts.dhtPeers, topo.router.addresses[0])
  progress(`connect latency: ${opts.dhtPeers} DHT peers up`)
  // bob published into a three-node DHT; the daemon publishes again once its
  // DHT has doubled, onto the peers now closest to its key, as in a settled network
  const grown = Date.now()
  await waitFor("bob's presence published into the grown DHT", async () => {
    const s = JSON.parse((await runCli(topo.bob.home, ['status', '--json'])).stdout)
    return s.presence?.at > grown
  }, 60_000, 500)
  const bobPeerId = topo.bobD.addresses[0].split('/p2p/')[1]
  progress('connect latency: bob published into the grown DHT')
  const users = await topo.addUsers(opts.coldUsers)
  progress(`connect latency: ${users.length} new users started`)
  samples['cspace cold'] = []
  samples['cspace first, DHT-connected'] = []
  let firstConnectFailures = 0
  const firstConnectErrors: string[] = []
  // bob into each store, as `cspace contacts add` does (through the API the
  // daemon would start its own fresh lookup of bob beside the connect's);
  // before the wait, so no CLI process starts and exits just before a connect
  for (const { profile } of users) await runCli(profile.home, ['contacts', 'add', 'bob', topo.bob.userId])
  // connects to a new contact, not ones racing the daemons' start-up work
  const settled = (await Promise.all(users.map(async ({ daemon }) => await waitForQuiet(daemon.proc.pid as number)))).filter(quiet => quiet).length
  // ... and the network as a whole: each new daemon's table refresh goes on at
  // a few percent of a core for tens of seconds after its own start-up, and
  // twenty of them with the DHT peers' process kept both cores busy while the
  // first connects were measured (docs/BENCHMARKS.md, "Cold connect: a network still settling")
  const settling = Date.now()
  const everyone = [...users.map(u => u.daemon.proc.pid as number), ...[topo.router, topo.aliceD, topo.bobD].map(d => d.proc.pid as number), peers.pid]
  const networkSettled = await waitForQuiet(everyone, { share: NETWORK_QUIET_SHARE, windowMs: 2000, deadlineMs: 120_000 })
  const networkSettleSeconds = Math.round((Date.now() - settling) / 1000)
  progress(`connect latency: the new users are quiet, the network ${networkSettled ? 'too' : 'not'} after ${networkSettleSeconds} s; first connects`)
  for (const { profile } of users) {
    // the daemon's local API, as the CLI uses it, without a process per call
    const api = new LocalApiClient({ home: profile.home })
    await waitFor('a published presence', async () => ((await api.get<Status>('/v1/status')).presence?.peers ?? 0) > 0, 90_000, 200)
    await api.post('/v1/hangup', { user: topo.bob.userId })
    await new Promise(resolve => setTimeout(resolve, 500))
    const { connections } = await api.get<{ connections: Array<{ peerId: string }> }>('/v1/connections')
    const connected = connections.some(c => c.peerId === bobPeerId)
    const { port } = await api.post<{ port: number }>('/v1/forwards', { port: 0, contact: 'bob', service: 'echo' })
    try {
      samples[connected ? 'cspace first, DHT-connected' : 'cspace cold'].push(await roundTrip(port))
    } catch {
      firstConnectFailures++
      const status = await api.get<Status>('/v1/status')
      firstConnectErrors.push(status.forwards?.find(f => f.lastError != null)?.lastError ?? 'the connection closed without an error recorded')
    }
  }
  await peers.stop()
  return {
    ms: Object.fromEntries(Object.entries(samples).filter(([, v]) => v.length > 0).map(([k, v]) => [k, summarize(v)])),
    dhtSize: 3 + opts.coldUsers + opts.dhtPeers,
    firstConnectAlreadyConnected: samples['cspace first, DHT-connected'].length,
    firstConnectFailures,
    firstConnectErrors,
    usersSettled: settled,
    networkSettled,
    networkSettleSeconds
  }
}
