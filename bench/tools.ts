import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { readFileSync, writeFileSync } from 'node:fs'
import { waitPort } from '../test/helpers/wait.js'
import { freePort, type Sshd } from '../test/helpers/sshd.js'
import { startReadyProcess } from './ready-process.js'

export const exec = promisify(execFile)

const procs = new Set<ChildProcess>()

/** Starts a long-running helper process (iperf3 server, socat, ssh -L), killed by stopTools(). */
export function startTool (cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  procs.add(p)
  p.once('exit', () => procs.delete(p))
  return p
}

export async function stopTools (): Promise<void> {
  for (const p of procs) p.kill('SIGTERM')
  await Promise.all([...procs].map(async p => p.exitCode == null ? await once(p, 'exit') : undefined))
}

/** `socat TCP-LISTEN:new,fork TCP:127.0.0.1:target`: the plain relay a user might reach for. */
export async function socatRelay (target: number): Promise<number> {
  const port = await freePort()
  startTool('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${target}`])
  await waitPort(port)
  return port
}

export function sshArgs (sshd: Sshd): string[] {
  return ['-i', sshd.clientKey, '-o', `UserKnownHostsFile=${sshd.knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new', '-o', 'BatchMode=yes', '-p', String(sshd.port)]
}

/** `ssh -N -L new:127.0.0.1:target` to the local sshd, with its session up. */
export async function sshTunnel (sshd: Sshd, target: number): Promise<number> {
  const port = await freePort()
  startTool('ssh', [...sshArgs(sshd), '-N', '-L', `127.0.0.1:${port}:127.0.0.1:${target}`, 'root@127.0.0.1'])
  await waitPort(port)
  return port
}

/** A TCP echo server (the "remote service" for round-trip latency). */
export async function echoServer (): Promise<{ port: number, server: Server }> {
  const server = createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => {}); s.pipe(s) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as { port: number }).port, server }
}

/** An echo service in a process of its own (echo-process.ts): the latency suite's service. */
export async function echoProcess (): Promise<{ port: number, pid: number, stop: () => Promise<void> }> {
  const port = await freePort()
  const proc = await startReadyProcess('./echo-process.js', [String(port)], 'the echo service', 30_000)
  return { port, pid: proc.pid, stop: proc.stop }
}

/** Resident memory of a process in MiB. */
export function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m != null ? Number(m[1]) / 1024 : NaN
}

/**
 * Memory only this process holds (anonymous pages: heap, buffers, malloc), in
 * MiB; the rest of RSS is mostly the Node executable, mapped and shared.
 */
export function privateMiB (pid: number): number {
  const m = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
  return m != null ? Number(m[1]) / 1024 : NaN
}

/** CPU seconds (user + system) a process has used. */
export function cpuSeconds (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks, 100 Hz on Linux
}

/** How long ago a process started, in ms (/proc: its start in clock ticks since boot, against the uptime). */
export function processAgeMs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  return (uptimeS - Number(fields[19]) / 100) * 1000
}

/**
 * Waits until a process (or a group of them, summed) has used under `share`
 * of a core over a whole `windowMs` (start-up work done), or until the
 * deadline. Returns whether it went quiet. A process that has exited counts 0.
 */
export async function waitForQuiet (pids: number | number[], opts: { share?: number, windowMs?: number, deadlineMs?: number } = {}): Promise<boolean> {
  const group = Array.isArray(pids) ? pids : [pids]
  const used = (): number => group.reduce((sum, pid) => { try { return sum + cpuSeconds(pid) } catch { return sum } }, 0)
  const windowMs = opts.windowMs ?? 1000
  const deadline = Date.now() + (opts.deadlineMs ?? 30_000)
  while (Date.now() < deadline) {
    const cpu0 = used()
    await new Promise(resolve => setTimeout(resolve, windowMs))
    if ((used() - cpu0) * 1000 / windowMs < (opts.share ?? 0.05)) return true
  }
  return false
}

/** A process's peak resident memory (VmHWM) in MiB since it started or since resetPeakRss. */
export function peakRssMiB (pid: number): number {
  const kib = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m)?.[1]
  if (kib == null) throw new Error(`no VmHWM for pid ${pid}`)
  return Number(kib) / 1024
}

/** Resets VmHWM to the current RSS (Linux: 5 > /proc/PID/clear_refs). */
export function resetPeakRss (pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5')
}
