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

/**
 * Spares kept per connection: with one, a connect that closely followed the
 * previous one waited for the spare that one had started to finish its
 * negotiation; with two, one is ready while the other negotiates.
 */
export const SPARES_PER_CONNECTION = 2

interface Spare { stream: Promise<Stream | undefined>, ready: boolean, openedAt: number }

/**
 * Connect streams per direct connection (SPARES_PER_CONNECTION), opened and negotiated ahead of
 * need: libp2p 3 always completes multistream-select before a new stream can
 * carry data, which costs a round trip per session. Once a session's first
 * reply has come back, the spares are topped up for the next connects (see
 * SessionManager.connectEarly's onReply), so repeated connects to a contact (a
 * browser through a forward, ssh after ssh) skip that round trip. Relayed
 * connections get none: a router's circuit is capped, and an idle stream
 * there would keep a relayed connection open after a hole punch.
 */
export class SpareStreams {
  private readonly spares = new Map<string, Spare[]>()
  private readonly open: (connection: Connection) => Promise<Stream>

  constructor (open: (connection: Connection) => Promise<Stream>) {
    this.open = open
  }

  /**
   * One of the connection's spares if it is young and still open (a
   * negotiated one first, else the oldest still negotiating); undefined
   * otherwise (open a fresh stream).
   */
  async take (connection: Connection): Promise<Stream | undefined> {
    const list = this.spares.get(connection.id) ?? []
    while (list.length > 0) {
      const [spare] = list.splice(Math.max(0, list.findIndex(s => s.ready)), 1)
      const stream = await spare.stream
      if (stream == null) continue
      const usable = Date.now() - spare.openedAt < SPARE_MAX_AGE_MS && stream.status === 'open' && stream.writeStatus === 'writable' && stream.readStatus === 'readable'
      if (usable) return stream
      stream.abort(new Error('spare stream unused'))
    }
    return undefined
  }

  /** Opens spares for the next connects on this connection, up to SPARES_PER_CONNECTION, unless it is relayed. */
  refill (connection: Connection): void {
    if (connection.limits != null || connection.status !== 'open') return
    const list = this.spares.get(connection.id) ?? []
    this.spares.set(connection.id, list)
    while (list.length < SPARES_PER_CONNECTION) {
      const spare: Spare = { stream: Promise.resolve(undefined), ready: false, openedAt: Date.now() }
      spare.stream = this.open(connection).then((stream) => {
        spare.ready = true
        return stream
      }, (err: Error) => {
        log('spare stream to %p failed: %s', connection.remotePeer, err.message)
        const at = list.indexOf(spare)
        if (at >= 0) list.splice(at, 1)
        return undefined
      })
      list.push(spare)
    }
  }

  /** Drops the spares of a connection that closed. */
  forget (connectionId: string): void {
    const list = this.spares.get(connectionId) ?? []
    this.spares.delete(connectionId)
    for (const spare of list) spare.stream.then(s => s?.abort(new Error('connection closed')), () => {})
  }

  clear (): void {
    for (const id of [...this.spares.keys()]) this.forget(id)
  }
}
