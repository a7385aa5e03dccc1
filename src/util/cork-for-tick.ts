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
