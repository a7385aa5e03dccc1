import type { Duplex } from 'node:stream'
import { resolveHome } from '../store/profile-paths.js'
import { inProcessDaemon } from '../daemon/in-process.js'
import { validateServiceName } from '../session/permissions.js'
import { locateDaemon, type SdkOptions } from './daemon-locator.js'
import { openAppSocket } from './app-socket.js'

/**
 * How long the daemon may take to answer a connect: its own deadlines end
 * one within 105 s (15 s to reach the user, then up to 90 s while the
 * other side asks its user whether to allow it).
 */
const CONNECT_REPLY_TIMEOUT_MS = 120_000

/**
 * connect(user, service): a byte stream whose other end is `service` of
 * `user` (a contact name, or a user ID), authenticated and encrypted by the
 * local daemon. Rejects with the daemon's reason (offline, not allowed, …;
 * docs/SDK.md lists the codes). A program gets a net.Socket to the daemon's
 * application port; code running in the daemon's own process (the apps'
 * background parts) gets an in-memory Duplex with the same behaviour,
 * without the loopback hop.
 */
export async function connect (user: string, service: string, options: ConnectOptions = {}): Promise<Duplex> {
  validateServiceName(service)
  const local = inProcessDaemon(options.home ?? resolveHome())
  if (local != null) return await local.connect(user, service, { onAsking: options.onAsking, signal: options.signal })
  const request = { op: 'connect' as const, user, service, ...(options.onAsking != null ? { progress: true } : {}) }
  // returned neither paused nor flowing: it flows once the caller attaches a reader
  return await openAppSocket(locateDaemon(options), request, { timeoutMs: CONNECT_REPLY_TIMEOUT_MS, onAsking: options.onAsking, signal: options.signal })
}

export interface ConnectOptions extends SdkOptions {
  /** Called if `user` is being asked whether to allow the connection; the answer may take a minute. */
  onAsking?: () => void
  /** Gives up the connect (the other user's question goes too); it rejects with the signal's reason. */
  signal?: AbortSignal
}
