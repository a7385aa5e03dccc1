import { resolve } from 'node:path'
import type { Duplex } from 'node:stream'
// types only: a program's SDK import loads this registry, not the daemon (in-process-sessions.ts)
import type { CallerInfo } from '../session/index.js'

/**
 * The daemon running in this process, for SDK callers in the same process —
 * the apps' background parts, which `cspace daemon` starts beside the node.
 * They use the SDK as any program does, and the SDK comes here instead of
 * the application port: a session's bytes then go from the libp2p stream to
 * the app through an in-memory pair of streams, not through a loopback TCP
 * connection that the same process writes and reads again (for a file
 * transfer, that hop was a third of the receiving daemon's CPU).
 */
export interface InProcessDaemon {
  connect: (user: string, service: string, options?: { signal?: AbortSignal, onAsking?: () => void }) => Promise<Duplex>
  /** Offers `service` until closed here or the daemon stops (then `closed` resolves). */
  listen: (service: string, handler: (session: Duplex, caller: CallerInfo) => void) => { close: () => void, closed: Promise<void> }
}

const daemons = new Map<string, InProcessDaemon>()

/** The daemon of the profile at `home` if it runs in this process. */
export function inProcessDaemon (home: string): InProcessDaemon | undefined {
  return daemons.get(resolve(home))
}

/** Makes `daemon` the one of the profile at `home` in this process; returns the function that undoes it. */
export function setInProcessDaemon (home: string, daemon: InProcessDaemon): () => void {
  const key = resolve(home)
  daemons.set(key, daemon)
  return () => { if (daemons.get(key) === daemon) daemons.delete(key) }
}

