import type { Socket } from 'node:net'
import { locateDaemon, type SdkOptions } from './daemon-locator.js'
import { openAppSocket } from './app-socket.js'

/**
 * connect(user, service): a plain net.Socket whose other end is `service` of
 * `user` (a contact name, or a user ID), authenticated and encrypted by the
 * local daemon. Rejects with the daemon's reason (offline, not allowed, …).
 */
export async function connect (user: string, service: string, options: SdkOptions = {}): Promise<Socket> {
  // returned neither paused nor flowing: it flows once the caller attaches a reader
  return await openAppSocket(locateDaemon(options), { op: 'connect', user, service })
}
