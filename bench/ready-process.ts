import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

/** A helper process of the bench's own, running until its stdin ends. */
export interface ReadyProcess { pid: number, stop: () => Promise<void> }

/**
 * Starts `script` (beside this file, compiled) with Node and waits until it
 * prints "ready". `stop()` ends its stdin, on which it stops and exits, and
 * waits for that; if the bench dies first, the pipe closes just the same.
 */
export async function startReadyProcess (script: string, args: string[], what: string, timeoutMs: number): Promise<ReadyProcess> {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const child = spawn(process.execPath, [path, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${what} did not start within ${timeoutMs} ms`)) }, timeoutMs)
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
      await exited
    }
  }
}
