import type { Connection, Stream } from '@libp2p/interface'
import { PING_PROTOCOL } from '@libp2p/ping'
import { byteStream } from '@libp2p/utils'
import { componentLogger } from '../util/log.js'

const log = componentLogger('network:ping')

/** A ping's payload, as the ping protocol defines it. */
const PING_BYTES = 32
/**
 * The least time a connection has to answer before it is taken for dead
 * (libp2p's own shortest ping timeout); a slow link gets SLOW_LINK_FACTOR
 * times its last measured round trip (a busy upload queues the ping behind it).
 */
const SILENT_AFTER_MS = 5_000
const SLOW_LINK_FACTOR = 4

/** One ping in flight per connection, whoever asks: libp2p's monitor must find a free ping stream (2 per connection, node.ts). */
const inFlight = new WeakMap<Connection, Promise<boolean>>()

/**
 * One ping over `connection` itself (not whichever connection libp2p would
 * pick for the peer). False only if nothing came back in time: any answer,
 * a refusal or a reset included, shows the peer still there.
 */
export async function answersPing (connection: Connection, timeoutMs = SILENT_AFTER_MS): Promise<boolean> {
  let ping = inFlight.get(connection)
  if (ping == null) {
    ping = pingOnce(connection, Math.max(timeoutMs, SLOW_LINK_FACTOR * (connection.rtt ?? 0)))
    inFlight.set(connection, ping)
    void ping.then(() => { inFlight.delete(connection) })
  }
  return await ping
}

/** Pings `connection` and aborts it if it stays silent; resolves to whether it was closed. */
export async function closeIfSilent (connection: Connection, why: string, timeoutMs = SILENT_AFTER_MS): Promise<boolean> {
  if (await answersPing(connection, timeoutMs)) return false
  if (connection.status !== 'open') return false
  log('closing %s connection to %s: %s, and it did not answer a ping', connection.direction, connection.remotePeer.toString(), why)
  connection.abort(new Error(`${why}, and the connection did not answer a ping`))
  return true
}

async function pingOnce (connection: Connection, timeoutMs: number): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs)
  let stream: Stream | undefined
  try {
    stream = await connection.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true })
    const bytes = byteStream(stream)
    await Promise.all([
      bytes.write(crypto.getRandomValues(new Uint8Array(PING_BYTES)), { signal }),
      bytes.read({ bytes: PING_BYTES, signal })
    ])
    await stream.close({ signal })
    return true
  } catch (err) {
    stream?.abort(err as Error)
    return !signal.aborted
  }
}
