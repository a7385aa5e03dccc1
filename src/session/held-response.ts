import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * How long a callee holds its OK for the service's first bytes. Well under
 * the caller's connect timeout, which also bounds its wait for the answer.
 */
export const MAX_RESPONSE_HOLD_MS = 1000

/**
 * Sends `response` (the OK frame) in front of the stream's first bytes,
 * instead of on its own: one message and one wake-up of the caller's daemon
 * fewer per session. Only for a caller that sent application bytes with its
 * request (SessionManager.connectEarly): it is not waiting for the OK before
 * it sends. The OK still leaves alone when the service sends nothing within
 * `maxHoldMs`, and before the stream's close.
 */
export function holdResponseForFirstBytes (stream: Stream, response: Uint8Array, maxHoldMs = MAX_RESPONSE_HOLD_MS): void {
  const send = stream.send.bind(stream)
  const close = stream.close.bind(stream)
  let held = true
  // the stream's own methods back once the OK is out: nothing of this stays
  // on the tunnel's data path
  const release = (): void => {
    held = false
    clearTimeout(timer)
    stream.send = send
    stream.close = close
  }
  const flush = (): void => {
    if (!held) return
    release()
    if (stream.writeStatus === 'writable') send(response)
  }
  const timer = setTimeout(flush, maxHoldMs)
  stream.send = (data: Uint8Array | Uint8ArrayList): boolean => {
    release()
    return send(new Uint8ArrayList(response, data))
  }
  stream.close = async (options) => {
    flush()
    await close(options)
  }
  stream.addEventListener('close', release, { once: true })
}
