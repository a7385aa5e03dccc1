/**
 * `npm run bench`: cspace's cost side by side with what a user would otherwise
 * use (raw TCP, socat, ssh -L, scp), measured in one run on this machine and
 * reported as ratios. `--quick` (under 3 minutes), default full mode, `--tiny`
 * (the harness on tiny sizes, for the test suite). Writes bench/results/latest.json
 * (or --out PATH) and prints a table. `--dht N,N` sets the simulated DHT sizes,
 * `--dht-lookups N` the lookups per size, `--only SUITE,SUITE` runs only those
 * suites (footprint, throughput, files, latency, loaded, busy, dht, keyserver, chat, desktop).
 */
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { cpus, totalmem, release } from 'node:os'
import { execFileSync } from 'node:child_process'
import { cleanupAll, ROOT } from '../test/helpers/cli.js'
import { startSshd } from '../test/helpers/sshd.js'
import { postgresBinDir } from '../test/helpers/postgres.js'
import { buildTopology } from './topology.js'
import { stopTools } from './tools.js'
import { measureThroughput } from './suites/throughput.js'
import { measureLatency } from './suites/latency.js'
import { measureLinkLatency } from './suites/link-latency.js'
import { measureLoadedLink } from './suites/loaded-link.js'
import { measureBusyTunnels } from './suites/busy-tunnels.js'
import { measureFiles } from './suites/files.js'
import { measureFootprint } from './suites/footprint.js'
import { measureDhtScale } from './suites/dht-scale.js'
import { measureKeyServer } from './suites/keyserver.js'
import { measureChat } from './suites/chat.js'
import { measureDesktop } from './suites/desktop.js'
import { renderTable } from './report.js'
import { missingToolsMessage } from './requirements.js'

/** The round-trip time of the delayed link in the latency suite: a path between two cities. */
const LINK_RTT_MS = 10
/** The loaded link: a home connection's upload, and a router queue of 50 ms. */
const LOADED_LINK = { rateMbit: 20, queueMs: 50 }

const SUITES = ['footprint', 'throughput', 'files', 'latency', 'loaded', 'busy', 'dht', 'keyserver', 'chat', 'desktop'] as const
type Suite = typeof SUITES[number]

const MODES = {
  tiny: { throughput: { seconds: 1, repeats: 1, streams: [1] }, latency: { samples: 5, coldUsers: 1, freshSsh: 1, dhtPeers: 5, linkSamples: 3 }, loaded: { samples: 3, settleMs: 1000 }, busy: { uploads: 4, samples: 3, settleMs: 500 }, files: { bytes: 4 << 20, repeats: 1 }, chat: { samples: 5, burst: 20 }, desktop: { samples: 3 }, footprint: { contacts: 3, tunnels: 5 }, dht: [20], dhtLookups: 20, keyserver: { registrations: 30, lookups: 60, concurrency: 16, rounds: 2, warmupRegistrations: 5, warmupRequests: 20 } },
  quick: { throughput: { seconds: 2, repeats: 1, streams: [1, 4] }, latency: { samples: 30, coldUsers: 8, freshSsh: 3, dhtPeers: 30, linkSamples: 20 }, loaded: { samples: 5, settleMs: 1500 }, busy: { uploads: 50, samples: 10, settleMs: 1500 }, files: { bytes: 64 << 20, repeats: 1 }, chat: { samples: 100, burst: 500 }, desktop: { samples: 10 }, footprint: { contacts: 10, tunnels: 100 }, dht: [], dhtLookups: 200, keyserver: { registrations: 1000, lookups: 2500, concurrency: 16, rounds: 5, warmupRegistrations: 300, warmupRequests: 5000 } },
  // the in-process DHT simulation runs every node on one core: 1000 nodes take
  // ~30 min on their own, so that size is a separate run, `--dht 1000` (docs/BENCHMARKS.md)
  full: { throughput: { seconds: 10, repeats: 5, streams: [1, 4] }, latency: { samples: 200, coldUsers: 20, freshSsh: 10, dhtPeers: 60, linkSamples: 50 }, loaded: { samples: 50, settleMs: 3000 }, busy: { uploads: 200, samples: 50, settleMs: 3000 }, files: { bytes: 1 << 30, repeats: 3 }, chat: { samples: 500, burst: 2000 }, desktop: { samples: 100 }, footprint: { contacts: 10, tunnels: 100 }, dht: [100, 500], dhtLookups: 200, keyserver: { registrations: 20_000, lookups: 100_000, concurrency: 16, rounds: 10, warmupRegistrations: 1000, warmupRequests: 40_000 } }
} as const

function version (cmd: string, args: string[]): string {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim() } catch (err) { return (err as { stderr?: string }).stderr?.split('\n')[0].trim() ?? 'unknown' }
}

function usage (message: string): never {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const mode = args.includes('--tiny') ? 'tiny' : args.includes('--quick') ? 'quick' : 'full'
  const outIndex = args.indexOf('--out')
  const out = outIndex >= 0 ? args[outIndex + 1] : join(ROOT, 'bench', 'results', 'latest.json')
  const m = MODES[mode]
  const dhtIndex = args.indexOf('--dht')
  const dhtSizes: number[] = dhtIndex >= 0 ? args[dhtIndex + 1].split(',').map(Number) : [...m.dht]
  const lookupsIndex = args.indexOf('--dht-lookups')
  const dhtLookups = lookupsIndex >= 0 ? Number(args[lookupsIndex + 1]) : m.dhtLookups
  const onlyIndex = args.indexOf('--only')
  const only = onlyIndex >= 0 ? new Set(args[onlyIndex + 1].split(',')) : new Set(SUITES)
  for (const s of only) if (!SUITES.includes(s as Suite)) usage(`--only: unknown suite ${s}; choose from ${SUITES.join(', ')}`)
  if (dhtSizes.some(n => !Number.isInteger(n) || n < 2) || !Number.isInteger(dhtLookups) || dhtLookups < 1) usage('--dht takes node counts (2 or more) separated by commas; --dht-lookups a positive count')
  const missing = missingToolsMessage(only)
  if (missing != null) {
    process.stderr.write(`bench: ${missing}\n`)
    process.exit(1)
  }
  const run = async <T>(suite: Suite, f: () => Promise<T>): Promise<T | undefined> => only.has(suite) ? await f() : undefined
  const started = Date.now()
  const needsDaemons = ['footprint', 'throughput', 'files', 'latency', 'busy', 'chat', 'desktop'].some(s => only.has(s))
  const log = (s: string): void => { process.stderr.write(`bench: ${Math.round((Date.now() - started) / 1000)} s: ${s}\n`) }
  log(`mode ${mode}: ${[...only].join(', ')}`)
  const sshdStarting = needsDaemons ? startSshd() : undefined
  const topologyStarting = needsDaemons ? buildTopology() : undefined
  try {
    // both settled before either failure is thrown: cleanupAll must not run
    // while the other is still starting daemons in the directories it removes
    const [sshdStarted, topologyStarted] = await Promise.allSettled([sshdStarting, topologyStarting])
    if (sshdStarted.status === 'rejected') throw sshdStarted.reason
    if (topologyStarted.status === 'rejected') throw topologyStarted.reason
    const [sshd, topo] = [sshdStarted.value, topologyStarted.value]
    // first, as it has daemons of its own: meanwhile the topology's finish
    // start-up, which the footprint then need not wait for (measureFootprint)
    const linkLatency = sshd && await run('latency', async () => { log(`connect latency over a ${LINK_RTT_MS} ms link`); return await measureLinkLatency(sshd, { samples: m.latency.linkSamples, rttMs: LINK_RTT_MS }) })
    const footprint = topo && sshd && await run('footprint', async () => { log('footprint'); return await measureFootprint(topo, m.footprint) })
    const throughput = topo && sshd && await run('throughput', async () => { log('tunnel throughput (iperf3)'); return await measureThroughput(topo, sshd, m.throughput) })
    const files = topo && sshd && await run('files', async () => { log('file throughput'); return await measureFiles(topo, sshd, m.files) })
    const latency = topo && sshd && await run('latency', async () => { log('connect latency'); return await measureLatency(topo, sshd, m.latency, log) })
    const chat = topo && await run('chat', async () => { log('chat message delivery'); return await measureChat(topo, m.chat) })
    const desktop = topo && sshd && await run('desktop', async () => { log('remote desktop (Xvfb + x11vnc)'); return await measureDesktop(topo, sshd, m.desktop, log) })
    const busy = topo && sshd && await run('busy', async () => { log(`connect latency beside ${m.busy.uploads} busy tunnels`); return await measureBusyTunnels(topo, sshd, m.busy, log) })
    const loaded = await run('loaded', async () => { log(`connect latency on a ${LOADED_LINK.rateMbit} Mbit/s link under load`); return await measureLoadedLink({ ...m.loaded, ...LOADED_LINK }, log) })
    const dht = []
    for (const nodes of only.has('dht') ? dhtSizes : []) {
      log(`DHT at scale: ${nodes} nodes in-process, ${dhtLookups} lookups`)
      dht.push(await measureDhtScale({ nodes, lookups: dhtLookups, killPercent: 20, progress: log }))
    }
    const keyserver = await run('keyserver', async () => await measureKeyServer(m.keyserver, log))
    log('done')
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    const libp2p = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'libp2p', 'package.json'), 'utf8')).version
    const report = {
      date: new Date().toISOString(),
      mode,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
      versions: { cspace: pkg.version, libp2p, iperf3: version('iperf3', ['--version']), ssh: version('ssh', ['-V']), socat: version('socat', ['-V']).replace(/^.*socat/, 'socat'), ...(keyserver != null ? { sqlite: process.versions.sqlite, postgresql: version(join(postgresBinDir(), 'postgres'), ['--version']) } : {}) },
      throughput,
      files,
      latency,
      linkLatency,
      loaded,
      busy,
      chat,
      desktop,
      footprint,
      dht,
      keyserver
    }
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n')
    process.stdout.write(renderTable(report) + `\nwritten to ${out}\n`)
  } finally {
    await stopTools()
    await (await sshdStarting?.catch(() => undefined))?.stop()
    await cleanupAll()
  }
}

await main()
