import { connect as netConnect, type Socket } from 'node:net'
import { encodeLine, MAX_HEADER_BYTES, type AppOperation, type AppReply, type AskingEvent } from '../daemon/app-protocol.js'
import { LocalApiError } from '../daemon/errors.js'
import { readLine } from '../daemon/line-reader.js'
import type { DaemonEndpoint } from './daemon-locator.js'

/**
 * Opens a connection to the daemon's application port, sends one request and
 * waits for the reply line; on ok the socket is the application's from then on.
 * `onAsking`: a connect that asked for progress was told the other side is
 * asking its user (an interim line before the reply).
 */
export async function openAppSocket (endpoint: DaemonEndpoint, request: AppOperation, timeoutMs = 60_000, onAsking?: () => void): Promise<Socket> {
  // noDelay: the daemon's side already has it; with Nagle on here, an application's small writes
  // wait for the daemon's delayed ACK (40 ms on Linux) whenever earlier bytes are unacknowledged
  const socket = netConnect({ host: '127.0.0.1', port: endpoint.info.appPort, allowHalfOpen: true, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.write(encodeLine({ v: 1, token: endpoint.token, ...request }))
  let reply: AppReply
  try {
    const deadline = Date.now() + timeoutMs
    reply = JSON.parse(await readLine(socket, MAX_HEADER_BYTES, timeoutMs)) as AppReply
    if ((reply as Partial<AskingEvent>).event === 'asking') {
      try { onAsking?.() } catch {} // the caller's notice; the connect goes on
      reply = JSON.parse(await readLine(socket, MAX_HEADER_BYTES, Math.max(0, deadline - Date.now()))) as AppReply
    }
  } catch (err) {
    socket.destroy()
    throw new LocalApiError('APP_PORT', `the daemon did not answer (${(err as Error).message})`)
  }
  if (!reply.ok) {
    socket.destroy()
    throw new LocalApiError(reply.code ?? 'REFUSED', reply.message ?? 'refused', reply.usage === true ? 2 : 1)
  }
  return socket
}
