import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { removeTempDirs, tempDir } from './files.js'
import { waitFor } from './wait.js'
import { inNamespace } from './netns.js'
import type { PromptRequest } from '../../src/session/index.js'

/** The repository root (dist/test/helpers → ../../..). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..')
export const CSPACE_BIN = join(ROOT, 'bin', 'cspace.js')
/**
 * The Node flags on the `cspace` command's `#!/usr/bin/env -S node …` line:
 * children run with exactly what a user's `cspace` runs with.
 */
export const CSPACE_NODE_FLAGS = readFileSync(CSPACE_BIN, 'utf8').split('\n')[0].split(/\s+/).filter(a => a.startsWith('--'))

export interface CliResult { code: number, stdout: string, stderr: string }

const children = new Set<ChildProcess>()

/** `node <cspace> ARGS`, inside the network namespace `netns` if given (`ip netns exec` execs, so the pid is node's). */
function cspaceCommand (args: string[], netns?: string): [string, string[]] {
  const node = [...CSPACE_NODE_FLAGS, CSPACE_BIN, ...args]
  return inNamespace(netns, process.execPath, node)
}

/** Runs `cspace ARGS` with the profile `home`; resolves when it exits. */
export async function runCli (home: string, args: string[], opts: { input?: string | Buffer, env?: Record<string, string>, timeoutMs?: number, netns?: string } = {}): Promise<CliResult> {
  const child = spawn(...cspaceCommand(args, opts.netns), {
    env: { ...process.env, CSPACE_HOME: home, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  children.add(child)
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  child.stdin.on('error', () => {})
  child.stdin.end(opts.input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  const [code] = await once(child, 'close') as [number | null]
  clearTimeout(timer)
  children.delete(child)
  return { code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}

/** A new profile with an identity; returns its home and user ID. */
export async function makeProfile (name: string, opts: { keyType?: 'ed25519' | 'rsa', env?: Record<string, string>, config?: object } = {}): Promise<{ home: string, userId: string, fingerprint: string }> {
  const home = join(tempDir(`cspace-${name}-`), 'profile')
  const args = ['init']
  if (opts.keyType != null) args.push('--key-type', opts.keyType)
  const r = await runCli(home, args, { env: opts.env })
  if (r.code !== 0) throw new Error(`cspace init failed: ${r.stderr}`)
  const [userId, fp] = r.stdout.trim().split('\n')
  writeFileSync(join(home, 'config.json'), JSON.stringify(testConfig(opts.config), null, 2))
  return { home, userId, fingerprint: fp.replace('fingerprint: ', '') }
}

/** The settings a loopback test network needs, set the way a user would: in config.json. */
export function testConfig (overrides: object = {}): object {
  return {
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    network: { allowPrivateAddresses: true, inboundConnectionsPerIpPerSecond: 1000, maxConnections: 300 },
    presence: { ttlSeconds: 3600 },
    apiPort: 0,
    ...overrides
  }
}

export interface RunningDaemon {
  home: string
  proc: ChildProcess
  /** Full multiaddrs ending in /p2p/<id>, as printed. */
  addresses: string[]
  stderr: () => string
  /** SIGTERM and wait for exit; resolves to the exit code. */
  stop: () => Promise<number | null>
  /** SIGKILL and wait for exit. */
  kill: () => Promise<void>
  /** Sends a signal and waits for the exit code. */
  signal: (sig: NodeJS.Signals) => Promise<number | null>
}

/** Starts `cspace daemon ARGS` and waits until it has printed its listen addresses. */
export async function startDaemon (home: string, args: string[] = [], opts: { env?: Record<string, string>, timeoutMs?: number, netns?: string } = {}): Promise<RunningDaemon> {
  const proc = spawn(...cspaceCommand(['daemon', ...args], opts.netns), {
    env: { ...process.env, CSPACE_HOME: home, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.add(proc)
  let stdout = ''
  let stderr = ''
  proc.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const addresses = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start within ${opts.timeoutMs ?? 30_000} ms: ${stderr}`)), opts.timeoutMs ?? 30_000)
    // addresses go to stdout before the "running" line goes to stderr
    const check = (): void => {
      if (stderr.includes('cspace daemon running') && stdout.endsWith('\n') && stdout.includes('/p2p/')) {
        clearTimeout(timer)
        resolve(stdout.trim().split('\n'))
      }
    }
    proc.stdout?.on('data', (b: Buffer) => { stdout += b.toString(); check() })
    proc.stderr?.on('data', check)
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`daemon exited with ${code}: ${stderr}`)) })
  })
  const exited = once(proc, 'exit').then(([code]) => { children.delete(proc); return code as number | null })
  return {
    home,
    proc,
    addresses,
    stderr: () => stderr,
    stop: async () => { proc.kill('SIGTERM'); return await exited },
    kill: async () => { proc.kill('SIGKILL'); await exited },
    signal: async (sig) => { proc.kill(sig); return await exited }
  }
}

/**
 * Waits until the daemon of profile `home` sees its contact `name` online
 * (their presence found in the DHT): a connect right after daemons start
 * may otherwise run before the contact has published.
 */
export async function waitOnline (home: string, name: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${name} online in ${home}'s status`, async () => {
    const r = await runCli(home, ['status', '--json'])
    return r.code === 0 && (JSON.parse(r.stdout).contacts as Array<{ name: string, presence: string }>).some(c => c.name === name && c.presence === 'online')
  }, timeoutMs, 200)
}

/** The requests waiting for the answer of profile `home`'s user (`cspace requests --json`). */
export async function pendingRequests (home: string): Promise<PromptRequest[]> {
  return JSON.parse((await runCli(home, ['requests', '--json'])).stdout) as PromptRequest[]
}

/** Starts `cspace ARGS` as a long-running child (a server), tracked so cleanupAll() kills it. */
export function spawnCspace (args: string[], opts: { home: string, env?: Record<string, string>, stdin?: 'pipe' | 'ignore', netns?: string }): ChildProcess {
  const child = spawn(...cspaceCommand(args, opts.netns), { env: { ...process.env, CSPACE_HOME: opts.home, ...opts.env }, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/**
 * Starts `cspace ARGS` on a pseudo-terminal (script(1)), as from a user's shell; stdin is the
 * keyboard. `exec`: script runs the command through $SHELL, and dash (Debian's sh) would stay
 * in the terminal's foreground group and die of a Ctrl-C itself, whatever cspace does.
 */
export function spawnCspaceOnTerminal (args: string[], opts: { home: string }): ChildProcess {
  const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`
  const command = 'exec ' + [process.execPath, ...CSPACE_NODE_FLAGS, CSPACE_BIN, ...args].map(quote).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, CSPACE_HOME: opts.home }, stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin?.on('error', () => {})
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Kills every process the helpers started and removes their directories. */
export async function cleanupAll (): Promise<void> {
  for (const c of children) c.kill('SIGKILL')
  await Promise.all([...children].map(async c => c.exitCode == null && c.signalCode == null ? await once(c, 'exit') : undefined))
  children.clear()
  removeTempDirs()
}

export type Profile = Awaited<ReturnType<typeof makeProfile>>

/** A router and two users, alice and bob, contacts of each other, daemons up and bob online for alice. */
export interface TwoUsers {
  router: RunningDaemon
  /** `--bootstrap <router>`: for restarting a daemon or starting another user. */
  boot: string[]
  alice: Profile
  bob: Profile
  aliceD: RunningDaemon
  bobD: RunningDaemon
}

export async function startTwoUsers (): Promise<TwoUsers> {
  // independent steps at once: each is a process start, mostly waiting on the other core
  const [routerProfile, alice, bob] = await Promise.all([makeProfile('router'), makeProfile('alice'), makeProfile('bob')])
  const addContact = async (home: string, name: string, id: string): Promise<void> => {
    const r = await runCli(home, ['contacts', 'add', name, id])
    if (r.code !== 0) throw new Error(`contacts add ${name}: ${r.stderr}`)
  }
  const [router] = await Promise.all([
    startDaemon(routerProfile.home, ['--router', '--no-apps']),
    addContact(alice.home, 'bob', bob.userId),
    addContact(bob.home, 'alice', alice.userId)
  ])
  const boot = ['--bootstrap', router.addresses[0]]
  const [bobD, aliceD] = await Promise.all([startDaemon(bob.home, boot), startDaemon(alice.home, boot)])
  await Promise.all([waitOnline(alice.home, 'bob'), waitOnline(bob.home, 'alice')])
  return { router, boot, alice, bob, aliceD, bobD }
}
