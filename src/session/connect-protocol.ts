import type { Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { ConnectStatus } from './connect-status.js'
import { ProtocolViolation } from './session-errors.js'

export { ConnectStatus }

/**
 * The cspace connect protocol, negotiated on a libp2p stream that is already
 * TLS-authenticated to both users' keys. Version 1:
 *
 *   request  (caller → callee): 0x01, len (1 byte, 1..64), service name (ASCII)
 *   response (callee → caller): 0x01, status (1 byte), len (1 byte), message (UTF-8)
 *
 * After status OK the stream carries the application's bytes, both ways, with
 * half-close. Nothing else is ever framed, so the overhead is one round trip.
 */
export const CONNECT_PROTOCOL = '/cspace/connect/1.0.0'
export const CONNECT_VERSION = 1
export const MAX_SERVICE_NAME = 64
export const MAX_STATUS_MESSAGE = 255
// Frames are bounded by their 1-byte length fields; this only caps application
// bytes that arrive glued to a frame (an SSH banner right after OK) before unwrap.
const READ_AHEAD_LIMIT = 1024 * 1024


export interface ConnectResponse { status: ConnectStatus, message: string }

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

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
 * application. Throws ProtocolViolation with the status to answer.
 */
export async function readRequest (stream: Stream, signal: AbortSignal): Promise<{ service: string, stream: Stream }> {
  const bytes = byteStream(stream, { maxBufferSize: READ_AHEAD_LIMIT })
  const head = (await bytes.read({ bytes: 2, signal })).subarray()
  if (head[0] !== CONNECT_VERSION) throw new ProtocolViolation(`unsupported connect protocol version ${head[0]}`, ConnectStatus.UnsupportedVersion)
  const len = head[1]
  if (len === 0 || len > MAX_SERVICE_NAME) throw new ProtocolViolation(`service name length ${len} outside 1..${MAX_SERVICE_NAME}`, ConnectStatus.BadRequest)
  const service = Buffer.from((await bytes.read({ bytes: len, signal })).subarray()).toString('latin1')
  if (!SERVICE_NAME.test(service)) throw new ProtocolViolation('malformed service name', ConnectStatus.BadRequest)
  return { service, stream: bytes.unwrap() }
}

export async function readResponse (stream: Stream, signal: AbortSignal): Promise<{ response: ConnectResponse, stream: Stream }> {
  const bytes = byteStream(stream, { maxBufferSize: READ_AHEAD_LIMIT })
  const head = (await bytes.read({ bytes: 3, signal })).subarray()
  if (head[0] !== CONNECT_VERSION) throw new ProtocolViolation(`the remote answered with connect protocol version ${head[0]}`)
  if (!(head[1] in ConnectStatus)) throw new ProtocolViolation(`the remote answered with unknown status ${head[1]}`)
  const message = head[2] > 0 ? new TextDecoder().decode((await bytes.read({ bytes: head[2], signal })).subarray()) : ''
  return { response: { status: head[1] as ConnectStatus, message }, stream: bytes.unwrap() }
}
