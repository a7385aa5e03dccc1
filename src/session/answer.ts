import type { Stream } from '@libp2p/interface'
import { encodeResponse, type ConnectStatus } from './connect-protocol.js'

/**
 * How long a refused caller may keep its side of the stream open. An honest
 * caller resets the stream as soon as it reads the refusal; this only cuts
 * off one that does not, after enough time for the refusal to be read.
 */
export const REFUSED_LINGER_MS = 2000

/**
 * Sends the callee's answer unless the caller already closed or reset the
 * stream (libp2p's send throws then, and from a timer that would end the
 * daemon); false if it could not be sent.
 */
export function respond (stream: Stream, status: ConnectStatus, message = ''): boolean {
  if (stream.writeStatus !== 'writable') return false
  stream.send(encodeResponse(status, message))
  return true
}

/**
 * Refuses a request and ends its stream. What the caller still sends is read
 * and dropped, and the stream is reset after REFUSED_LINGER_MS if the caller
 * has not closed it: a refused stream that stayed open and unread would keep
 * up to yamux's read-buffer limit (8 MiB) of a stranger's bytes for as long
 * as the stranger liked, on each of a thousand streams per connection.
 */
export function refuseAndClose (stream: Stream, status: ConnectStatus, message = ''): void {
  if (!respond(stream, status, message)) return
  const linger = setTimeout(() => { stream.abort(new Error('refused, and the caller kept the stream open')) }, REFUSED_LINGER_MS)
  linger.unref()
  stream.addEventListener('close', () => { clearTimeout(linger) }, { once: true })
  stream.addEventListener('message', dropUnread)
  if (stream.readStatus === 'paused') stream.resume()
  stream.close().catch(() => {})
}

const dropUnread = (): void => {}

/**
 * Stops reading a request's stream until the service takes it (resumeRequest):
 * what the caller sends meanwhile (while a prompt waits for a person) is then
 * bounded by the stream's receive window, as yamux sends no window update
 * while a stream is paused.
 */
export function holdRequest (stream: Stream): void {
  if (stream.readStatus === 'readable') stream.pause()
}

export function resumeRequest (stream: Stream): void {
  if (stream.readStatus === 'paused') stream.resume()
}
