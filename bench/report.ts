import type { Summary } from './stats.js'
import type { ThroughputResult } from './suites/throughput.js'
import { RELAY_PAIR, type LatencyResult } from './suites/latency.js'
import type { LinkLatencyResult } from './suites/link-latency.js'
import type { LoadedLinkResult } from './suites/loaded-link.js'
import type { BusyTunnelsResult } from './suites/busy-tunnels.js'
import type { FileResult } from './suites/files.js'
import type { FootprintResult } from './suites/footprint.js'
import type { DhtScaleResult } from './suites/dht-scale.js'
import type { KeyServerResult } from './suites/keyserver.js'
import type { ChatResult } from './suites/chat.js'
import type { DesktopResult } from './suites/desktop.js'

export interface Report {
  mode: string
  // absent when `--only` left the suite out
  throughput?: ThroughputResult[]
  files?: FileResult
  latency?: LatencyResult
  linkLatency?: LinkLatencyResult
  loaded?: LoadedLinkResult
  busy?: BusyTunnelsResult
  footprint?: FootprintResult
  dht: DhtScaleResult[]
  keyserver?: KeyServerResult
  chat?: ChatResult
  desktop?: DesktopResult
}

const fmt = (n: number, digits = 2): string => Number.isFinite(n) ? n.toFixed(digits) : 'n/a'

function rows (title: string, unit: string, values: Record<string, Summary>, anchor: string, higherIsBetter: boolean): string[] {
  const w = Math.max(22, ...Object.keys(values).map(k => k.length))
  const out = [title, `  ${'path'.padEnd(w)} ${('median ' + unit).padEnd(16)} ${'min..max'.padEnd(20)} ratio to ${anchor}`]
  const a = values[anchor]
  for (const [name, s] of Object.entries(values)) {
    const r = a != null ? s.median / a.median : NaN
    out.push(`  ${name.padEnd(w)} ${fmt(s.median).padEnd(16)} ${`${fmt(s.min)}..${fmt(s.max)}`.padEnd(20)} ${fmt(r)}${higherIsBetter ? '' : ' (lower is better)'}`)
  }
  return out
}

/** What each warm path adds to direct's round trip, in ms: the target is cspace's, the relay pair its floor in Node. */
function warmOverDirect (ms: Record<string, Summary>): string {
  const added = (path: string): string => ms[path] != null && ms.direct != null ? `+${fmt(ms[path].median - ms.direct.median)} ms` : 'n/a'
  return `  added to direct, warm: cspace ${added('cspace warm')} (target +1 ms); Node relay pair ${added(RELAY_PAIR)}; ssh -L ${added('ssh -L (session up)')}`
}

/** Idle and busy round trips per path, the busy one also as a ratio to ssh -L's. */
function loadedRows (l: LoadedLinkResult): string[] {
  const out = [`connect + 1-byte round trip on a ${l.rateMbit} Mbit/s link (queue ≤ ${l.queueMs} ms) while an upload through the same tunnel fills it`,
    `  ${'path'.padEnd(10)} ${'idle median ms'.padEnd(16)} ${'busy median ms'.padEnd(16)} ${'busy p90'.padEnd(10)} ${'upload Mbit/s'.padEnd(15)} busy ratio to ssh -L`]
  const anchor = l.paths['ssh -L']?.busyMs.median
  for (const [name, p] of Object.entries(l.paths)) {
    out.push(`  ${name.padEnd(10)} ${fmt(p.idleMs.median).padEnd(16)} ${fmt(p.busyMs.median).padEnd(16)} ${fmt(p.busyMs.p90).padEnd(10)} ${fmt(p.uploadMbit, 1).padEnd(15)} ${fmt(p.busyMs.median / anchor)} (lower is better)`)
  }
  return out
}

/** New connections' round trips beside many busy tunnels, per path, with what the tunnels moved and lost. */
function busyRows (b: BusyTunnelsResult): string[] {
  const out = [`connect + 1-byte round trip while ${b.uploads} uploads through the same tunnel (one connection / ssh session) run, loopback`,
    `  ${'path'.padEnd(10)} ${'idle median ms'.padEnd(16)} ${'busy median ms'.padEnd(16)} ${'busy p90'.padEnd(10)} ${'failed'.padEnd(8)} ${'uploads, Mbit/s'.padEnd(16)} ${'uploads cut'.padEnd(12)} busy ratio to ssh -L`]
  const anchor = b.paths['ssh -L']?.busyMs.median
  for (const [name, p] of Object.entries(b.paths)) {
    out.push(`  ${name.padEnd(10)} ${fmt(p.idleMs.median).padEnd(16)} ${fmt(p.busyMs.median).padEnd(16)} ${fmt(p.busyMs.p90).padEnd(10)} ${String(p.failed).padEnd(8)} ${fmt(p.uploadMbit, 0).padEnd(16)} ${String(p.uploadsCut).padEnd(12)} ${fmt(p.busyMs.median / anchor)} (lower is better)`)
  }
  return out
}

/** The terminal table: every figure with its anchor from the same run. */
export function renderTable (r: Report): string {
  const lines: string[] = [`cspace benchmark (${r.mode} mode)`, '']
  for (const t of r.throughput ?? []) {
    lines.push(...rows(`tunnel throughput, iperf3 ${t.streams} stream(s), ${t.seconds} s`, 'Gbit/s', t.gbps, 'ssh -L', true))
    lines.push(`  cspace daemons' peak RSS over these runs: alice (forward) ${fmt(t.peakRssMiB.alice, 0)} MiB, bob (expose) ${fmt(t.peakRssMiB.bob, 0)} MiB`, '')
  }
  if (r.files != null) {
    lines.push(...rows(`file transfer, ${fmt(r.files.bytes / 2 ** 20, 0)} MiB to a plain receiver`, 'MB/s', r.files.mbps, 'scp', true))
    lines.push(`  cspace daemons' CPU: ${fmt(r.files.cpuSecondsPerGiB)} s per GiB relayed (both ends)`, '')
  }
  if (r.latency != null) lines.push(...rows(`connect + 1-byte round trip (cold: DHT of ${r.latency.dhtSize} servers, ${r.latency.firstConnectAlreadyConnected} new user(s) still connected to bob after a hangup counted apart, ${r.latency.firstConnectFailures} failed; ${r.latency.networkSettled ? `network settled after ${r.latency.networkSettleSeconds} s` : 'network NOT settled'})`, 'ms', r.latency.ms, 'direct', false), warmOverDirect(r.latency.ms), '')
  if (r.latency != null && r.latency.firstConnectErrors.length > 0) lines.push(`  failed first connects: ${r.latency.firstConnectErrors.join('; ')}`, '')
  if (r.linkLatency != null) lines.push(...rows(`connect + 1-byte round trip over a link with ${r.linkLatency.rttMs} ms RTT (user-space delay proxy; cspace warm)`, 'ms', r.linkLatency.ms, 'direct (same link)', false), '')
  if (r.loaded != null) lines.push(...loadedRows(r.loaded), '')
  if (r.busy != null) lines.push(...busyRows(r.busy), '')
  if (r.footprint != null) {
    lines.push('footprint',
      `  daemon RSS idle with ${r.footprint.contacts} contacts: ${fmt(r.footprint.idleRssMiB, 1)} MiB (${fmt(r.footprint.idlePrivateMiB, 1)} MiB its own; the rest is the shared Node executable)`,
      `  RSS with ${r.footprint.tunnels} open tunnels: alice ${fmt(r.footprint.aliceRssWithTunnelsMiB, 1)} MiB, bob ${fmt(r.footprint.bobRssWithTunnelsMiB, 1)} MiB`)
  }
  for (const d of r.dht) {
    lines.push('', `DHT at scale, ${d.nodes} nodes (${d.method}; ${fmt(d.memoryPerNodeMiB, 1)} MiB per node; set up in ${fmt(d.setupSeconds, 0)} s)`,
      `  presence published by ${fmt(d.publish.successRate * 100, 1)}% of nodes, stored on a median ${fmt(d.publish.peersPerPut.median, 0)} peers`)
    for (const run of d.runs) {
      lines.push(`  ${run.killedPercent}% killed: ${run.lookups} lookups, success ${fmt(run.successRate * 100, 1)}%, median ${fmt(run.latencyMs.median, 0)} ms, p99 ${fmt(run.latencyMs.p99, 0)} ms, requests/lookup ${fmt(run.messagesPerLookup.median, 0)} (failed ${fmt(run.requestErrorsPerLookup.max, 0)} at most)`)
    }
  }
  if (r.chat != null) {
    lines.push(...rows('chat: a message from send to the recipient\'s acknowledgement (stored on both sides), warm connection', 'ms', r.chat.deliveryMs, 'raw TCP', false))
    lines.push(`  a burst of ${r.chat.burst.messages} messages queued at once: ${fmt(r.chat.burst.perSecond, 0)} delivered per second`, '')
  }
  if (r.desktop != null) {
    const d = r.desktop
    lines.push(...rows(`remote desktop (x11vnc on Xvfb ${d.width}x${d.height}): session setup, connect to ServerInit (RFB 3.8, security None)`, 'ms', d.setupMs, 'direct', false), '')
    lines.push(...rows(`remote desktop: first full-screen update, 32 bpp Raw (${fmt(d.updateBytes / 1e6, 1)} MB)`, 'ms', d.updateMs, 'direct', false), '')
    lines.push(...rows('remote desktop: the same update as throughput', 'MB/s', d.updateMBps, 'direct', true), '')
  }
  if (r.keyserver != null) lines.push(...(lines[lines.length - 1] === '' ? [] : ['']), ...keyServerRows(r.keyserver))
  return lines.join('\n')
}

/** Requests/s per store and phase; lookups against /health on the same server, PostgreSQL against SQLite. */
function keyServerRows (k: KeyServerResult): string[] {
  const out = [`key server, ${k.concurrency} requests in flight, ${k.sqlite.health.perSecondRounds.n} rounds (SQLite synchronous=FULL, PostgreSQL fsync on; client signing outside the timing, ${fmt(k.clientSignMs, 3)} ms per operation)`,
    `  ${'store / request'.padEnd(30)} ${'req/s (rounds min..max)'.padEnd(24)} ${'median ms'.padEnd(10)} ${'p99 ms'.padEnd(8)} ${'CPU s/1000: server, bench, machine'.padEnd(36)} ratio`]
  for (const store of ['sqlite', 'postgres'] as const) {
    const s = k[store]
    for (const [phase, label] of [['register', `register (${s.register.requests} POST)`], ['lookup', `lookup (${s.lookup.requests} GET)`], ['health', `/health (${s.health.requests} GET)`]] as const) {
      const p = s[phase]
      const ratios = [phase === 'lookup' ? `${fmt(s.lookupToHealth)} × /health` : '', store === 'postgres' ? `${fmt(k.postgresToSqlite[phase])} × sqlite` : ''].filter(x => x !== '')
      out.push(`  ${`${store} ${label}`.padEnd(30)} ${`${fmt(p.perSecond, 0)} (${fmt(p.perSecondRounds.min, 0)}..${fmt(p.perSecondRounds.max, 0)})`.padEnd(24)} ${fmt(p.latencyMs.median).padEnd(10)} ${fmt(p.latencyMs.p99).padEnd(8)} ${`${fmt(p.cpuPer1000.server, 3)}, ${fmt(p.cpuPer1000.loadGenerator, 3)}, ${fmt(p.cpuPer1000.machine, 3)}`.padEnd(36)} ${ratios.join(', ')}`)
    }
  }
  return out
}
