import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { parseIncomingEvent, type IncomingEvent } from '../daemon/app-protocol.js'
import { inProcessDaemon } from '../daemon/in-process.js'
import { resolveHome } from '../store/profile-paths.js'
import { validateServiceName } from '../session/permissions.js'
import { locateDaemon, type SdkOptions } from './daemon-locator.js'
import { openAppSocket } from './app-socket.js'
import { componentLogger } from '../util/log.js'

const log = componentLogger('sdk:listen')

export type Caller = IncomingEvent['caller']

/** An `incoming` event is a few hundred bytes; a line longer than this is not the daemon speaking. */
const MAX_EVENT_LINE = 64 * 1024
export type ConnectionHandler = (socket: Duplex, caller: Caller) => void | Promise<void>

export interface Listener {
  readonly service: string
  /** Stops offering the service. */
  close: () => void
  /** Resolves when the registration ends (closed here, or the daemon stopped: listen again once it runs). */
  closed: Promise<void>
}

/**
 * listen(service, handler): offers `service` to others through the local
 * daemon. The daemon applies the permission rules first; each allowed session
 * reaches `handler` as a byte stream with the caller's identity: a net.Socket
 * in a program of its own, an in-memory Duplex in the daemon's own process.
 * A handler that throws (or, async, rejects) has its session reset, and its
 * error is left unhandled, as a net.Server's 'connection' listener's would be.
 */
export async function listen (service: string, handler: ConnectionHandler, options: SdkOptions = {}): Promise<Listener> {
  validateServiceName(service)
  const local = inProcessDaemon(options.home ?? resolveHome())
  if (local != null) return { service, ...local.listen(service, (session, caller) => { void runHandler(handler, session, caller, false) }) }
  const endpoint = locateDaemon(options)
  const control = await openAppSocket(endpoint, { op: 'listen', service })
  control.setEncoding('utf8')
  let buffered = ''
  control.on('data', (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      const event = parseIncomingEvent(line)
      if (event == null) continue
      openAppSocket(endpoint, { op: 'accept', id: event.id }).then(async (socket) => { await runHandler(handler, socket, event.caller, true) }, () => { /* the caller went away before we accepted */ })
    }
    // the limit is on one line: a burst of many small events is not a broken daemon
    if (buffered.length > MAX_EVENT_LINE) control.destroy()
  })
  control.resume()
  // the daemon stopping ends its side; ours (half-open) would otherwise stay open for good
  control.once('end', () => control.destroy())
  const closed = new Promise<void>((resolve) => control.once('close', () => resolve()))
  return { service, close: () => control.destroy(), closed }
}

/**
 * Runs `handler` on a session. A failing one (a throw, a rejection) has its
 * session reset, not left open with the caller waiting. In a program its
 * error then goes on unhandled, as a net.Server listener's would; in the
 * daemon's own process it is logged instead, so an app cannot end the daemon.
 */
async function runHandler (handler: ConnectionHandler, session: Duplex, caller: Caller, rethrow: boolean): Promise<void> {
  try {
    await handler(session, caller)
  } catch (err) {
    session.on('error', () => {}) // the reset's own error is for the other side
    if (session instanceof Socket) session.resetAndDestroy()
    else session.destroy(Object.assign(new Error('the service failed'), { code: 'ECONNRESET' }))
    if (rethrow) throw err
    log('the handler of a session failed: %e', err)
  }
}
