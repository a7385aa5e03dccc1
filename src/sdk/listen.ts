import type { Socket } from 'node:net'
import type { IncomingEvent } from '../daemon/app-protocol.js'
import { locateDaemon, type SdkOptions } from './daemon-locator.js'
import { openAppSocket } from './app-socket.js'

export type Caller = IncomingEvent['caller']
export type ConnectionHandler = (socket: Socket, caller: Caller) => void

export interface Listener {
  readonly service: string
  /** Stops offering the service. */
  close: () => void
  /** Resolves when the registration ends (closed here, or the daemon stopped). */
  closed: Promise<void>
}

/**
 * listen(service, handler): offers `service` to others through the local
 * daemon. The daemon applies the permission rules first; each allowed session
 * reaches `handler` as a plain net.Socket with the caller's identity.
 */
export async function listen (service: string, handler: ConnectionHandler, options: SdkOptions = {}): Promise<Listener> {
  const endpoint = locateDaemon(options)
  const control = await openAppSocket(endpoint, { op: 'listen', service })
  control.setEncoding('utf8')
  let buffered = ''
  control.on('data', (chunk: string) => {
    buffered += chunk
    if (buffered.length > 64 * 1024) { control.destroy(); return }
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      let event: IncomingEvent
      try { event = JSON.parse(line) } catch { continue }
      if (event.event !== 'incoming') continue
      openAppSocket(endpoint, { op: 'accept', id: event.id })
        .then((socket) => { handler(socket, event.caller) })
        .catch(() => { /* the caller went away before we accepted */ })
    }
  })
  control.resume()
  const closed = new Promise<void>((resolve) => control.once('close', () => resolve()))
  return { service, close: () => control.destroy(), closed }
}
