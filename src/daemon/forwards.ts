import { createServer, type Server } from 'node:net'
import { componentLogger } from '../util/log.js'
import { abortLocal, firstBytesIfSent, pipeSocketStream, type SessionManager } from '../session/index.js'
import { contactNameKey } from '../contacts/index.js'
import { PortForwarded, PortInUse } from './errors.js'

const log = componentLogger('daemon:forwards')

export interface ForwardSpec { port: number, contact: string, service: string }

export interface ForwardState extends ForwardSpec {
  /** Connections currently being carried. */
  active: number
  /** Connections carried since the forward was started. */
  total: number
  /** Why the last connection failed, if it did; for a saved forward that is not listening, why not. */
  lastError?: string
  /** False for a saved forward whose port could not be taken at start (in use): it is tried again at the next start. */
  listening: boolean
}

/**
 * Local TCP ports on 127.0.0.1, each tied to a user's service: every accepted
 * connection becomes a connect(user, service) and the bytes are piped.
 */
export class ForwardManager {
  private readonly sessions: SessionManager
  private readonly forwards = new Map<number, { state: ForwardState, server: Server }>()
  /** Saved forwards that could not listen at start, kept so that status shows them and why. */
  private readonly notListening = new Map<number, ForwardState>()

  /** Told whenever a forward's counts or last error change (the event stream's `tunnels:activity`). */
  private readonly onActivity: () => void

  constructor (components: { sessions: SessionManager, onActivity?: () => void }) {
    this.sessions = components.sessions
    this.onActivity = components.onActivity ?? (() => {})
  }

  /** Starts listening; port 0 picks a free port. Resolves to the spec with the real port. */
  async add (spec: ForwardSpec): Promise<ForwardSpec> {
    const same = this.forwards.get(spec.port)?.state
    if (same != null) {
      // the same forward again is a no-op; another one would cut off the sessions on this one
      if (contactNameKey(same.contact) === contactNameKey(spec.contact) && same.service === spec.service) return { port: same.port, contact: same.contact, service: same.service }
      throw new PortForwarded(spec.port, `${same.contact}/${same.service}`)
    }
    const state: ForwardState = { ...spec, active: 0, total: 0, listening: true }
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      state.active++
      state.total++
      this.onActivity()
      socket.setNoDelay(true) // interactive protocols (ssh, chat) must not wait for Nagle
      socket.on('error', (err) => log('forward %d socket: %e', state.port, err))
      // the application's first bytes go out with the service request, not a
      // round trip later; those already sent, in the request's own flight
      this.sessions.connectEarly(state.contact, state.service, { firstBytes: firstBytesIfSent(socket) })
        .then(async ({ stream, accepted, onReply }) => {
          socket.resume()
          accepted.catch((err: Error) => { state.lastError = err.message; log('forward %d → %s/%s refused: %s', state.port, state.contact, state.service, err.message) })
          await pipeSocketStream(socket, stream, { remoteAccepted: accepted, onFirstReply: onReply })
        })
        .catch((err: Error) => {
          state.lastError = err.message
          log('forward %d → %s/%s failed: %s', state.port, state.contact, state.service, err.message)
          abortLocal(socket) // a reset: the program sees the failure, not a clean end
        })
        .finally(() => { state.active--; this.onActivity() })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUse(spec.port) : err))
      server.listen(spec.port, '127.0.0.1', () => resolve())
    })
    // an accept that fails later (out of file descriptors, memory) is logged; unheard, it would end the daemon
    server.on('error', (err) => { log('forward %d: %e', state.port, err) })
    const addr = server.address()
    if (typeof addr === 'object' && addr != null) state.port = addr.port
    this.forwards.set(state.port, { state, server })
    this.notListening.delete(state.port)
    return { port: state.port, contact: state.contact, service: state.service }
  }

  /** A saved forward at start: listening if its port is free; otherwise listed, not listening, with why. */
  async restore (spec: ForwardSpec): Promise<void> {
    try {
      await this.add(spec)
    } catch (err) {
      this.notListening.set(spec.port, { ...spec, active: 0, total: 0, listening: false, lastError: (err as Error).message })
      throw err
    }
  }

  async remove (port: number): Promise<boolean> {
    const f = this.forwards.get(port)
    if (f == null) return this.notListening.delete(port)
    this.forwards.delete(port)
    await new Promise<void>((resolve) => f.server.close(() => resolve()))
    return true
  }

  /** Forwards to a renamed contact connect under the new name from now on. */
  renameContact (oldName: string, newName: string): void {
    for (const f of [...this.forwards.values()].map(f => f.state).concat([...this.notListening.values()])) if (contactNameKey(f.contact) === contactNameKey(oldName)) f.contact = newName
  }

  list (): ForwardState[] {
    return [...this.forwards.values()].map(f => ({ ...f.state })).concat([...this.notListening.values()].map(f => ({ ...f }))).sort((a, b) => a.port - b.port)
  }

  async stop (): Promise<void> {
    await Promise.all([...this.forwards.keys()].map(async p => await this.remove(p)))
  }
}
