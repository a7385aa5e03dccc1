import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { ConnectStatus } from './connect-status.js'
import { ProtocolViolation } from './session-errors.js'
import { readableEnded } from './pipe.js'
import { answerProgress } from '../network/index.js'
import { printable } from '../util/printable.js'

export { ConnectStatus }

/**
 * The cspace connect protocol, negotiated on a libp2p stream that is already
 * TLS-authenticated to both users' keys. Version 1:
 *
 *   request  (caller → callee): 0x01, len (1 byte, 1..64), service name (ASCII)
 *   response (callee → caller): 0x01, status (1 byte), len (1 byte), message (UTF-8)
 *
 * After status OK the stream carries the application's bytes, both ways, with
 * half-close. A callee that asks its user first sends status Asking, then the
 * answer in a second response frame. Nothing else is ever framed. A caller
 * may send application bytes right after the request
 * (SessionManager.connectEarly): the callee reads exactly one request frame
 * and leaves the rest in the stream, and may hold its OK until the service's
 * first bytes (at most 1 s, held-response.ts), since such a caller is not
 * waiting for it to send.
 */
export const CONNECT_PROTOCOL = '/cspace/connect/1.0.0'
export const CONNECT_VERSION = 1
export const MAX_SERVICE_NAME = 64
export const MAX_STATUS_MESSAGE = 255

export interface ConnectResponse { status: ConnectStatus, message: string }

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** Not fatal: a status message in broken UTF-8 is still shown, with U+FFFD. */
const MESSAGE_DECODER = new TextDecoder()

export function encodeRequest (service: string): Uint8Array {
  const name = Buffer.from(service, 'ascii')
  if (!SERVICE_NAME.test(service) || name.length > MAX_SERVICE_NAME) throw new ProtocolViolation(`"${service}" is not a service name`)
  return Buffer.concat([Buffer.from([CONNECT_VERSION, name.length]), name])
}

export function encodeResponse (status: ConnectStatus, message = ''): Uint8Array {
  let msg = Buffer.from(message, 'utf8')
  if (msg.length > MAX_STATUS_MESSAGE) msg = msg.subarray(0, MAX_STATUS_MESSAGE)
  return Buffer.concat([Buffer.from([CONNECT_VERSION, status, msg.length]), msg])
}

/**
 * Reads exactly one request frame; bytes after it stay in the stream for the
 * application (`earlyBytes`: some came with the request, so the caller did
 * not wait for the answer to send them). Throws ProtocolViolation with the
 * status to answer.
 */
export async function readRequest (stream: Stream, signal: AbortSignal): Promise<{ service: string, stream: Stream, earlyBytes: boolean }> {
  const { frame, rest } = await readFrame(stream, requestLength, signal)
  const service = Buffer.from(frame.subarray(2)).toString('latin1')
  if (!SERVICE_NAME.test(service)) throw new ProtocolViolation('malformed service name', ConnectStatus.BadRequest)
  return { service, stream, earlyBytes: rest > 0 }
}

/**
 * Reads the response: one frame, or the interim Asking and then the answer.
 * `negotiation`: the bytes the remote must send first, its confirmation of a
 * protocol proposed without waiting (proposed-stream.ts); anything else there
 * means it does not offer the protocol. `onAsking`: the callee is asking its
 * user; the wait for the answer goes on under the signal this returns.
 */
export async function readResponse (stream: Stream, signal: AbortSignal, negotiation?: Uint8Array, onAsking?: () => AbortSignal): Promise<{ response: ConnectResponse, stream: Stream }> {
  let response = await readResponseFrame(stream, signal, negotiation)
  if (response.status === ConnectStatus.Asking) {
    response = await readResponseFrame(stream, onAsking?.() ?? signal)
    if (response.status === ConnectStatus.Asking) throw new ProtocolViolation('the remote said twice that it is asking its user')
  }
  return { response, stream }
}

async function readResponseFrame (stream: Stream, signal: AbortSignal, negotiation?: Uint8Array): Promise<ConnectResponse> {
  const skip = negotiation?.byteLength ?? 0
  const length = negotiation == null ? responseLength : (head: Uint8ArrayList) => afterNegotiation(head, negotiation)
  const frame = (await readFrame(stream, length, signal)).frame.sublist(skip)
  // the callee's words reach the caller's terminal (`cspace connect`'s error line);
  // an OK has none
  const message = frame.byteLength > 3 ? printable(MESSAGE_DECODER.decode(frame.subarray(3))) : ''
  return { status: frame.get(1) as ConnectStatus, message }
}

/** The request frame's length once its head is in; throws on a head that can never be valid. */
function requestLength (head: Uint8ArrayList): number | undefined {
  if (head.byteLength < 2) return undefined
  if (head.get(0) !== CONNECT_VERSION) throw new ProtocolViolation(`unsupported connect protocol version ${head.get(0)}`, ConnectStatus.UnsupportedVersion)
  const len = head.get(1)
  if (len === 0 || len > MAX_SERVICE_NAME) throw new ProtocolViolation(`service name length ${len} outside 1..${MAX_SERVICE_NAME}`, ConnectStatus.BadRequest)
  return 2 + len
}

function responseLength (head: Uint8ArrayList): number | undefined {
  if (head.byteLength < 3) return undefined
  if (head.get(0) !== CONNECT_VERSION) throw new ProtocolViolation(`the remote answered with connect protocol version ${head.get(0)}`)
  if (!(head.get(1) in ConnectStatus)) throw new ProtocolViolation(`the remote answered with unknown status ${head.get(1)}`)
  return 3 + head.get(2)
}

function afterNegotiation (head: Uint8ArrayList, expected: Uint8Array): number | undefined {
  const progress = answerProgress(head, expected)
  if (progress === 'wrong') throw new ProtocolViolation('the remote does not offer the cspace connect protocol')
  if (progress === 'partial') return undefined
  const rest = responseLength(head.sublist(expected.byteLength))
  return rest == null ? undefined : expected.byteLength + rest
}

/**
 * Takes one frame off the stream's 'message' events and puts whatever came
 * after it back into the stream within the same dispatch. (byteStream's
 * unwrap() puts it back later, and a stream whose remote has closed marks its
 * readable end closed as soon as its own buffer is empty, and then refuses the
 * bytes: a service that answers and exits at once lost its reply that way.)
 */
async function readFrame (stream: Stream, frameLength: (head: Uint8ArrayList) => number | undefined, signal: AbortSignal): Promise<{ frame: Uint8ArrayList, rest: number }> {
  return await new Promise<{ frame: Uint8ArrayList, rest: number }>((resolve, reject) => {
    const buf = new Uint8ArrayList()
    const settle = (err: Error | undefined, frame?: Uint8ArrayList): void => {
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', onEnd)
      stream.removeEventListener('close', onEnd)
      signal.removeEventListener('abort', onAbort)
      if (err != null) reject(err)
      else resolve({ frame: frame as Uint8ArrayList, rest: buf.byteLength - (frame as Uint8ArrayList).byteLength })
    }
    const onMessage = (evt: StreamMessageEvent): void => {
      buf.append(evt.data)
      let len: number | undefined
      try {
        len = frameLength(buf)
      } catch (err) {
        settle(err as Error)
        return
      }
      if (len == null || buf.byteLength < len) return
      settle(undefined, buf.sublist(0, len))
      // after settle took this listener off: with a listener on, libp2p hands
      // unshifted bytes back on a timer (a millisecond and more), without one
      // they wait for the reader's listener, which gets them at once
      if (buf.byteLength > len) stream.unshift(buf.sublist(len))
    }
    // a caller reads this after "no answer to the service request" (a hang-up while the other side asked its user)
    const onEnd = (evt?: Event): void => {
      const closed = (evt ?? {}) as Partial<StreamCloseEvent>
      if (closed.error != null) { settle(closed.error); return }
      settle(new Error(buf.byteLength > 0 ? `the stream ended ${buf.byteLength} bytes into a frame` : closed.local === true ? 'this side closed the stream' : 'the other side closed the stream first'))
    }
    const onAbort = (): void => { settle(signal.reason as Error) }
    if (signal.aborted) { onAbort(); return }
    if (readableEnded(stream)) { onEnd(); return }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('end', onEnd)
    stream.addEventListener('close', onEnd)
    signal.addEventListener('abort', onAbort)
  })
}
