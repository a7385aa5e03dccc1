import type { Connection, Stream } from '@libp2p/interface'
import { PING_PROTOCOL } from '@libp2p/ping'
import { byteStream } from '@libp2p/utils'

/** A ping's payload, as the ping protocol defines it. */
const PING_BYTES = 32

/**
 * One ping over `connection` itself (not whichever connection libp2p would
 * pick for the peer). False only if nothing came back within `timeoutMs`:
 * any answer, a refusal or a reset included, shows the peer still there.
 */
export async function answersPing (connection: Connection, timeoutMs: number): Promise<boolean> {
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
