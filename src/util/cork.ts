import type { Writable } from 'node:stream'

const corked = new WeakSet<Writable>()

/**
 * Holds what is written to `stream` until the current tick's work is done,
 * then sends it all at once (one writev). A tunnel receives data in pieces
 * (16 KiB TLS records, a yamux header and its payload) and writing each on
 * its own costs a system call, and on a TLS socket a TLS record, apiece.
 */
export function corkForTick (stream: Writable): void {
  if (corked.has(stream)) return
  corked.add(stream)
  stream.cork()
  process.nextTick(() => {
    corked.delete(stream)
    stream.uncork()
  })
}

const corkedForTurn = new WeakSet<Writable>()

/**
 * Like corkForTick, but holds the writes until the event loop's check phase
 * (setImmediate), after all the I/O callbacks of this turn and every promise
 * chain they started. A libp2p connection writes from both: yamux answers a
 * new stream (ACK) in the I/O callback, multistream-select a few promise
 * hops later, and with corkForTick these left as two TLS records, two system
 * calls and two wake-ups of the remote.
 */
export function corkForTurn (stream: Writable): void {
  if (corkedForTurn.has(stream)) return
  corkedForTurn.add(stream)
  stream.cork()
  setImmediate(() => {
    corkedForTurn.delete(stream)
    stream.uncork()
  })
}
