import { Agent, request } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { spawnCspace } from '../../test/helpers/cli.js'
import { tempDir } from '../../test/helpers/files.js'
import { freePort } from '../../test/helpers/sshd.js'
import { portOpen, waitFor } from '../../test/helpers/wait.js'
import { http, newKeyUser, type KeyUser } from '../../test/helpers/keyserver.js'
import { startPostgres } from '../../test/helpers/postgres.js'
import { signOperation } from '../../src/keyserver/operation.js'
import { cpuSeconds } from '../tools.js'
import { summarize, type Summary } from '../stats.js'

/** One timed phase, in rounds: `requests` sent with `concurrency` in flight over keep-alive connections. */
export interface KeyServerPhase {
  requests: number
  concurrency: number
  seconds: number
  /** requests / seconds over every round. */
  perSecond: number
  /** Requests/s of each round. */
  perSecondRounds: Summary
  latencyMs: Summary
  /** CPU seconds per 1000 requests: the key server process, the bench process (load generator), the whole machine (PostgreSQL included). */
  cpuPer1000: { server: number, loadGenerator: number, machine: number }
}

export interface KeyServerStoreResult {
  register: KeyServerPhase
  lookup: KeyServerPhase
  health: KeyServerPhase
  /** lookups/s over /health requests/s on the same server. */
  lookupToHealth: number
}

export interface KeyServerResult {
  registrations: number
  lookups: number
  concurrency: number
  /** The client's cost, outside the timing: signing one register operation, ms. */
  clientSignMs: number
  sqlite: KeyServerStoreResult
  postgres: KeyServerStoreResult
  /** PostgreSQL requests/s over SQLite's, per phase. */
  postgresToSqlite: { register: number, lookup: number, health: number }
}

// the CLI takes at most 10,000,000 per minute: far above what one machine can send
const SERVER_ARGS = ['--requests-per-minute', '10000000', '--writes-per-minute', '10000000', '--log-level', 'warn']

interface BenchServer { port: number, url: string, pid: number, stop: () => Promise<void> }

/**
 * The real `cspace keyserver` as its own process. At --log-level warn it does
 * not log its "listening" line, which startKeyServer() waits for, so this
 * gives it a free port and waits for that port to accept connections.
 */
async function startServer (db: string): Promise<BenchServer> {
  const port = await freePort()
  const proc = spawnCspace(['keyserver', '--host', '127.0.0.1', '--port', String(port), '--db', db, ...SERVER_ARGS], { home: tempDir('cspace-bench-ks-') })
  let output = ''
  const keep = (b: Buffer): void => { output = (output + b.toString()).slice(-4000) }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  const exited = once(proc, 'exit')
  await waitFor('the key server to listen', async () => proc.exitCode != null || await portOpen(port), 20_000, 50)
  if (proc.exitCode != null) throw new Error(`key server exited with ${proc.exitCode}: ${output}`)
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid as number,
    stop: async () => {
      if (proc.exitCode == null && proc.signalCode == null) { proc.kill('SIGTERM'); await exited }
      if (proc.exitCode !== 0) throw new Error(`key server exited with ${proc.exitCode ?? proc.signalCode}: ${output}`)
    }
  }
}

/** Busy CPU seconds of the whole machine, all cores (/proc/stat: user nice system idle iowait irq softirq steal). */
function machineCpuSeconds (): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100
}

interface Req { method: string, path: string, body?: string }

function send (agent: Agent, port: number, r: Req): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const headers = r.body != null ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body) } : {}
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, agent, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.once('error', reject)
    })
    req.once('error', reject)
    req.end(r.body)
  })
}

interface Round { requests: number, seconds: number, latency: number[], cpu: { server: number, loadGenerator: number, machine: number } }

/**
 * Sends every request with `concurrency` in flight on keep-alive connections;
 * times the wall clock from the first send to the last answer. Every answer
 * must have status `expect`: a round with errors throws rather than count them.
 */
async function drive (server: BenchServer, what: string, reqs: Req[], concurrency: number, expect: number): Promise<Round> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const latency: number[] = []
  let bad = 0
  let first = ''
  let next = 0
  const cpu0 = { server: cpuSeconds(server.pid), load: process.cpuUsage(), machine: machineCpuSeconds() }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, reqs.length) }, async () => {
    while (next < reqs.length) {
      const r = reqs[next++]
      const t = performance.now()
      const answer = await send(agent, server.port, r)
      latency.push(performance.now() - t)
      if (answer.status !== expect && bad++ === 0) first = `${r.method} ${r.path}: ${answer.status} ${answer.body.slice(0, 300)}`
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  const load = process.cpuUsage(cpu0.load)
  const cpu = { server: cpuSeconds(server.pid) - cpu0.server, loadGenerator: (load.user + load.system) / 1e6, machine: machineCpuSeconds() - cpu0.machine }
  agent.destroy()
  if (bad > 0) throw new Error(`key server ${what}: ${bad} of ${reqs.length} answers were not ${expect}; the first: ${first}`)
  return { requests: reqs.length, seconds, latency, cpu }
}

function phase (rounds: Round[], concurrency: number): KeyServerPhase {
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0)
  const per1000 = (who: keyof Round['cpu']): number => rounds.reduce((n, r) => n + r.cpu[who], 0) / requests * 1000
  return {
    requests,
    concurrency,
    seconds,
    perSecond: requests / seconds,
    perSecondRounds: summarize(rounds.map(r => r.requests / r.seconds)),
    latencyMs: summarize(rounds.flatMap(r => r.latency)),
    cpuPer1000: { server: per1000('server'), loadGenerator: per1000('loadGenerator'), machine: per1000('machine') }
  }
}

/** `a` cut into `n` consecutive parts of (nearly) equal length. */
const split = <T>(a: T[], n: number): T[][] => Array.from({ length: n }, (_, i) => a.slice(Math.floor(i * a.length / n), Math.floor((i + 1) * a.length / n)))

interface Prepared { user: KeyUser, username: string, body: string }

/** Signs every register operation before any timing (signing is the client's cost); returns ms per operation. */
async function prepare (users: Array<{ user: KeyUser, username: string }>): Promise<{ ops: Prepared[], ms: number }> {
  const t0 = performance.now()
  const ops: Prepared[] = []
  for (const { user, username } of users) {
    const op = await signOperation({ op: 'register', username, key: user.id, displayName: '', prev: '' }, user.key)
    ops.push({ user, username, body: JSON.stringify(op) })
  }
  return { ops, ms: (performance.now() - t0) / Math.max(1, users.length) }
}

const register = (p: Prepared): Req => ({ method: 'POST', path: `/v1/users/${p.username}/log`, body: p.body })
const lookup = (p: Prepared): Req => ({ method: 'GET', path: `/v1/users/${p.username}` })
const HEALTH: Req = { method: 'GET', path: '/health' }

/**
 * One store on one server process: warm-up, registrations in rounds, then
 * rounds of /health and of lookups of random registered names, alternated so
 * that the machine's slow moments fall on both alike.
 */
async function measureStore (kind: 'sqlite' | 'postgres', db: string, users: Array<{ user: KeyUser, username: string }>, opts: KeyServerOptions): Promise<{ result: KeyServerStoreResult, signMs: number }> {
  const { ops, ms } = await prepare(users) // fresh timestamps: the server accepts operations signed within its 5-minute window
  const server = await startServer(db)
  try {
    const up = await http(server.url, 'GET', '/health')
    if (up.status !== 200 || up.body.store !== kind) throw new Error(`key server /health: ${up.status} ${JSON.stringify(up.body)}, expected store ${kind}`)
    // warm-up, untimed: the server's and the load generator's JIT (a fresh server
    // serves /health at half speed or less for its first tens of thousands of requests), connection pools
    const warm = ops.slice(0, opts.warmupRegistrations)
    await drive(server, 'warm-up registrations', warm.map(register), opts.concurrency, 201)
    const random = (n: number, of: Prepared[]): Prepared[] => Array.from({ length: n }, () => of[Math.floor(Math.random() * of.length)])
    for (const part of split(random(opts.warmupRequests, warm), 4)) {
      await drive(server, 'warm-up lookups', part.map(lookup), opts.concurrency, 200)
      await drive(server, 'warm-up /health', part.map(() => HEALTH), opts.concurrency, 200)
    }

    const reg: Round[] = []
    for (const part of split(ops.slice(opts.warmupRegistrations), opts.rounds)) reg.push(await drive(server, 'registrations', part.map(register), opts.concurrency, 201))
    const health: Round[] = []
    const lookups: Round[] = []
    const picks = random(opts.lookups, ops)
    for (const part of split(picks, opts.rounds)) {
      health.push(await drive(server, '/health', part.map(() => HEALTH), opts.concurrency, 200))
      lookups.push(await drive(server, 'lookups', part.map(lookup), opts.concurrency, 200))
    }
    // an answer is the registered user's entry, not just any 200
    const check = await http(server.url, 'GET', `/v1/users/${picks[0].username}`)
    if (check.body?.key !== picks[0].user.id) throw new Error(`key server lookup of ${picks[0].username}: ${JSON.stringify(check.body)}`)
    const result = { register: phase(reg, opts.concurrency), lookup: phase(lookups, opts.concurrency), health: phase(health, opts.concurrency) }
    return { result: { ...result, lookupToHealth: result.lookup.perSecond / result.health.perSecond }, signMs: ms }
  } finally {
    await server.stop()
  }
}

export interface KeyServerOptions {
  registrations: number
  lookups: number
  concurrency: number
  /** Each timed phase is cut into this many rounds; /health and lookup rounds alternate. */
  rounds: number
  /** Untimed, before: these registrations, then warmupRequests lookups and as many /health requests. */
  warmupRegistrations: number
  warmupRequests: number
}

/**
 * The key server under load from this process: registrations/s, lookups/s and
 * /health requests/s (the framework and HTTP ceiling; with PostgreSQL it also
 * runs SELECT 1) with SQLite (synchronous=FULL) and with a durable PostgreSQL (fsync on).
 */
export async function measureKeyServer (opts: KeyServerOptions, progress: (s: string) => void = () => {}): Promise<KeyServerResult> {
  const total = opts.warmupRegistrations + opts.registrations
  const users: Array<{ user: KeyUser, username: string }> = []
  // digits only after a fixed prefix: no two names share a confusable skeleton (0/o, 1/l); each store is a new database
  for (let i = 0; i < total; i++) users.push({ user: await newKeyUser(), username: `bench${i}` })

  progress(`key server with SQLite: ${opts.registrations} registrations, ${opts.lookups} lookups`)
  const sqlite = await measureStore('sqlite', join(tempDir('cspace-bench-ks-db-'), 'keyserver.db'), users, opts)
  progress('key server with PostgreSQL (fsync on)')
  const pg = await startPostgres({ durable: true })
  let postgres: Awaited<ReturnType<typeof measureStore>>
  try {
    postgres = await measureStore('postgres', await pg.createDatabase(), users, opts)
  } finally {
    await pg.stop()
  }
  const s = sqlite.result
  const p = postgres.result
  return {
    registrations: opts.registrations,
    lookups: opts.lookups,
    concurrency: opts.concurrency,
    clientSignMs: (sqlite.signMs + postgres.signMs) / 2,
    sqlite: s,
    postgres: p,
    postgresToSqlite: { register: p.register.perSecond / s.register.perSecond, lookup: p.lookup.perSecond / s.lookup.perSecond, health: p.health.perSecond / s.health.perSecond }
  }
}
