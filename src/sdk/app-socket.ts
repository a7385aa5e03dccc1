import { connect as netConnect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { encodeLine, MAX_HEADER_BYTES, type AppOperation, type AppReply, type AskingEvent } from '../daemon/app-protocol.js'
import { DaemonNotRunning, LocalApiError } from '../daemon/errors.js'
import { readLine } from '../daemon/line-reader.js'
import type { DaemonEndpoint } from './daemon-locator.js'

/** The daemon's answer when too many connections to it are being set up at once: try again after a pause. */
const BUSY = 'APP_PORT_BUSY'
const FIRST_BUSY_PAUSE_MS = 10
const MAX_BUSY_PAUSE_MS = 500

export interface AppSocketOptions {
  /** How long the daemon may take to reply. */
  timeoutMs?: number
  /** A connect that asked for progress was told the other side is asking its user (an interim line before the reply). */
  onAsking?: () => void
  /** Aborting gives up: the socket closes (the daemon then ends the connect) and the promise rejects with the signal's reason. */
  signal?: AbortSignal
}

/**
 * Opens a connection to the daemon's application port, sends one request and
 * waits for the reply line; on ok the socket is the application's from then
 * on. A daemon busy setting up other connections (a program opening hundreds
 * at once) is asked again after a pause, within the same deadline.
 */
export async function openAppSocket (endpoint: DaemonEndpoint, request: AppOperation, options: AppSocketOptions = {}): Promise<Socket> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  for (let pause = FIRST_BUSY_PAUSE_MS; ; pause = Math.min(MAX_BUSY_PAUSE_MS, pause * 2)) {
    try {
      return await openOnce(endpoint, request, deadline, options)
    } catch (err) {
      if (!(err instanceof LocalApiError && err.code === BUSY) || Date.now() + pause >= deadline) throw err
    }
    // jittered, so that a burst refused together does not come back together
    await sleep(pause * (0.5 + Math.random()), undefined, { signal: options.signal }).catch(() => { options.signal?.throwIfAborted() })
  }
}

async function openOnce (endpoint: DaemonEndpoint, request: AppOperation, deadline: number, options: AppSocketOptions): Promise<Socket> {
  const { signal, onAsking } = options
  signal?.throwIfAborted()
  // noDelay: the daemon's side already has it; with Nagle on here, an application's small writes
  // wait for the daemon's delayed ACK (40 ms on Linux) whenever earlier bytes are unacknowledged
  const socket = netConnect({ host: '127.0.0.1', port: endpoint.info.appPort, allowHalfOpen: true, noDelay: true })
  // with the reason, so that whatever is waiting on the socket (the connect, the reply) ends at once
  const onAbort = (): void => { socket.destroy(signal?.reason as Error) }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    }).catch((err: NodeJS.ErrnoException) => {
      signal?.throwIfAborted()
      // daemon.json still there, nothing listening: the daemon stopped (or is stopping)
      if (err.code === 'ECONNREFUSED') throw new DaemonNotRunning(endpoint.home)
      throw new LocalApiError('APP_PORT', `cannot reach the daemon's application port (${err.message})`)
    })
    socket.write(encodeLine({ v: 1, token: endpoint.token, ...request }))
    let reply: AppReply
    try {
      reply = JSON.parse(await readLine(socket, MAX_HEADER_BYTES, Math.max(0, deadline - Date.now()))) as AppReply
      if ((reply as Partial<AskingEvent>).event === 'asking') {
        try { onAsking?.() } catch {} // the caller's notice; the connect goes on
        reply = JSON.parse(await readLine(socket, MAX_HEADER_BYTES, Math.max(0, deadline - Date.now()))) as AppReply
      }
    } catch (err) {
      socket.destroy()
      signal?.throwIfAborted()
      throw new LocalApiError('APP_PORT', `the daemon did not answer (${(err as Error).message})`)
    }
    if (!reply.ok) {
      socket.destroy()
      throw new LocalApiError(reply.code ?? 'REFUSED', reply.message ?? 'refused', reply.usage === true ? 2 : 1)
    }
    return socket
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}
