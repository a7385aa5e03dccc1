import type { Connection, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'

/**
 * The hang-up notice: before `cspace hangup` closes its connections to a
 * peer, it tells the peer's daemon, which then takes the close for a hang-up
 * as well, not a loss, and does not dial straight back (libp2p's reconnect
 * queue re-dials a lost DHT neighbour at once; the presence tracker dials a
 * lost contact at its next check). Without it a hang-up was undone by the
 * other side within a second.
 *
 * v1: the caller sends one byte, the version, and closes its side; the callee
 * takes note, answers the same byte and closes. Anything else is refused
 * unanswered (the caller hangs up all the same, only without the notice). The caller closes the
 * connection only after the answer, so the close cannot overtake the notice.
 * It concerns only the sender, over a connection authenticated to its key,
 * so anyone may send it.
 */
export const HANG_UP_PROTOCOL = '/cspace/hang-up/1.0.0'
const VERSION = 1
/** A hang-up does not wait longer than this for the peer to take note; it closes regardless. */
export const HANG_UP_NOTICE_TIMEOUT_MS = 2000
/** Bytes buffered from a notice stream: a notice is one byte, the rest is not read. */
const MAX_NOTICE_BUFFER = 64

/** Tells the peer at the other end of `connection` that we are hanging up; resolves once it has taken note. */
export async function sendHangUpNotice (connection: Connection, signal: AbortSignal): Promise<void> {
  const stream = await connection.newStream(HANG_UP_PROTOCOL, { signal, runOnLimitedConnection: true })
  try {
    const bytes = byteStream(stream, { maxBufferSize: MAX_NOTICE_BUFFER })
    await bytes.write(Uint8Array.of(VERSION), { signal })
    await stream.close({ signal })
    const answer = await bytes.read({ bytes: 1, signal })
    if (answer.get(0) !== VERSION) throw new Error(`the peer answered the hang-up notice with ${answer.get(0)}, not ${VERSION}`)
  } finally {
    stream.abort(new Error('hang-up notice done')) // the connection closes next
  }
}

/**
 * Reads a notice from `stream` and, if it is a whole v1 notice, calls
 * `onNotice` before answering; rejects (the stream is then aborted) otherwise.
 */
export async function answerHangUpNotice (stream: Stream, signal: AbortSignal, onNotice: () => Promise<void>): Promise<void> {
  const bytes = byteStream(stream, { maxBufferSize: MAX_NOTICE_BUFFER })
  const version = (await bytes.read({ bytes: 1, signal })).get(0)
  if (version !== VERSION) throw new Error(`hang-up notice version ${version}, not ${VERSION}`)
  if (await bytes.read({ signal }) != null) throw new Error('a hang-up notice is one byte, and more came')
  await onNotice()
  await bytes.write(Uint8Array.of(VERSION), { signal })
  await bytes.unwrap().close({ signal })
}
