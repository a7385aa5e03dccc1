import type { Writable } from 'node:stream'

/**
 * A function that corks a stream and uncorks it when `schedule` runs its
 * callback; a stream already corked is left as it is, its writes held until
 * that cork is undone. (Asked of the stream, not of a WeakSet of our own: this
 * runs on every write of every connection, and the set's lookups showed in
 * a warm connect's profile.)
 */
function corkUntil (schedule: (uncork: () => void) => unknown): (stream: Writable) => void {
  return (stream) => {
    if (stream.writableCorked > 0) return
    stream.cork()
    schedule(() => { stream.uncork() })
  }
}

/**
 * Holds what is written to `stream` until the current tick's work is done,
 * then sends it all at once (one writev). A tunnel receives data in pieces
 * (16 KiB TLS records, a yamux header and its payload) and writing each on
 * its own costs a system call, and on a TLS socket a TLS record, apiece.
 */
export const corkForTick: (stream: Writable) => void = corkUntil((uncork) => process.nextTick(uncork))

/**
 * Like corkForTick, but holds the writes until the event loop's check phase
 * (setImmediate), after all the I/O callbacks of this turn and every promise
 * chain they started. A libp2p connection writes from both: yamux answers a
 * new stream (ACK) in the I/O callback, multistream-select a few promise
 * hops later, and with corkForTick these left as two TLS records, two system
 * calls and two wake-ups of the remote.
 */
export const corkForTurn: (stream: Writable) => void = corkUntil((uncork) => setImmediate(uncork))
