import { once } from 'node:events'
import type { ChildProcess } from 'node:child_process'

/** Signals a child process and waits for it to exit; SIGKILL if it has not within `graceMs`. */
export async function stopChild (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
