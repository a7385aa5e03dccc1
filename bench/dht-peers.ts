import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

/**
 * Plain DHT servers with the daemon's own network stack (TCP, TLS, yamux,
 * cspace's Kademlia), joining through the router as a daemon does. They make
 * the DHT larger than Kademlia's k = 20, so that a new user is not connected
 * to everyone and a first connect really looks presence up.
 *
 * They run in a process of their own (dht-peers-process.ts): in the bench's
 * process, their work answering a lookup held up the measuring client and the
 * echo server on the same event loop, and cold connect counted it
 * (docs/BENCHMARKS.md, "Cold connect: the instrument's own load").
 */
export async function startDhtPeers (count: number, bootstrap: string, timeoutMs = 120_000): Promise<{ pid: number, stop: () => Promise<void> }> {
  const script = fileURLToPath(new URL('./dht-peers-process.js', import.meta.url))
  const child = spawn(process.execPath, [script, String(count), bootstrap], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`the ${count} DHT peers did not start within ${timeoutMs} ms`)) }, timeoutMs)
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString()
      if (output.includes('ready\n')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the DHT peers' process exited (${code ?? 'signal'}) before it was ready`)) })
  })
  return {
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      child.stdin.end() // the process stops its nodes and exits when its stdin ends
      await exited
    }
  }
}
