import type { Connection, Stream } from '@libp2p/interface'
import { componentLogger } from '../util/log.js'

const log = componentLogger('session:spares')

/**
 * How long a spare may wait for its request on the callee's side, and how old
 * a spare the caller still uses: well inside it, so that a spare is never
 * taken just as the callee gives up on it.
 */
export const SPARE_IDLE_TIMEOUT_MS = 120_000
export const SPARE_MAX_AGE_MS = 60_000

interface Spare { stream: Promise<Stream | undefined>, openedAt: number }

/**
 * One connect stream per direct connection, opened and negotiated ahead of
 * need: libp2p 3 always completes multistream-select before a new stream can
 * carry data, which costs a round trip per session. Once a session's first
 * reply has come back, a spare is opened for the next connect (see
 * SessionManager.connectEarly's onReply), so repeated connects to a contact (a
 * browser through a forward, ssh after ssh) skip that round trip. Relayed
 * connections get none: a router's circuit is capped, and an idle stream
 * there would keep a relayed connection open after a hole punch.
 */
export class SpareStreams {
  private readonly spares = new Map<string, Spare>()
  private readonly open: (connection: Connection) => Promise<Stream>

  constructor (open: (connection: Connection) => Promise<Stream>) {
    this.open = open
  }

  /** The connection's spare if it is young and still open; undefined otherwise (open a fresh stream). */
  async take (connection: Connection): Promise<Stream | undefined> {
    const spare = this.spares.get(connection.id)
    if (spare == null) return undefined
    this.spares.delete(connection.id)
    const stream = await spare.stream
    if (stream == null) return undefined
    const usable = Date.now() - spare.openedAt < SPARE_MAX_AGE_MS && stream.status === 'open' && stream.writeStatus === 'writable' && stream.readStatus === 'readable'
    if (usable) return stream
    stream.abort(new Error('spare stream unused'))
    return undefined
  }

  /** Opens a spare for the next connect on this connection, unless it has one or is relayed. */
  refill (connection: Connection): void {
    if (connection.limits != null || connection.status !== 'open' || this.spares.has(connection.id)) return
    const stream = this.open(connection).catch((err: Error) => {
      log('spare stream to %p failed: %s', connection.remotePeer, err.message)
      this.spares.delete(connection.id)
      return undefined
    })
    this.spares.set(connection.id, { stream, openedAt: Date.now() })
  }

  /** Drops the spare of a connection that closed. */
  forget (connectionId: string): void {
    const spare = this.spares.get(connectionId)
    this.spares.delete(connectionId)
    spare?.stream.then(s => s?.abort(new Error('connection closed')), () => {})
  }

  clear (): void {
    for (const id of [...this.spares.keys()]) this.forget(id)
  }
}
