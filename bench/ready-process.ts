import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { inNamespace } from '../test/helpers/netns.js'

/** How long a helper may take to stop (the DHT peers stop 60 nodes) before it is killed. */
const STOP_TIMEOUT_MS = 30_000

/** A helper process of the bench's own, running until its stdin ends. */
export interface ReadyProcess { pid: number, stop: () => Promise<void> }

/**
 * Starts `script` (beside this file, compiled) with Node, in the network
 * namespace `netns` if given, and waits until it prints "ready". `stop()`
 * ends its stdin, on which it stops and exits, and waits for that (killing
 * it after 30 s); if the bench dies first, the pipe closes just the same.
 */
export async function startReadyProcess (script: string, args: string[], what: string, timeoutMs: number, netns?: string): Promise<ReadyProcess> {
  const child = spawn(...inNamespace(netns, process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args]), { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  exited.catch(() => {}) // a failed spawn rejects it; the wait below reports that
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${what} did not start within ${timeoutMs} ms`)) }, timeoutMs)
    child.once('error', (err) => { clearTimeout(timer); reject(err) })
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString()
      if (output.includes('ready\n')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code ?? 'signal'}) before it was ready`)) })
  })
  return {
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      child.stdin.end()
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited.finally(() => { clearTimeout(killer) })
    }
  }
}
