import type { Duplex } from 'node:stream'

/**
 * Writes replies to a peer that answers every line it sends (an ack, an
 * error), without letting a peer that sends and never reads make us buffer
 * without end: while replies are unread, reading the peer's lines waits; and
 * a peer with more than `maxUnreadBytes` unread (one chunk read can hold
 * thousands of lines, each answered) is cut off.
 */
export function replyWriter (socket: Duplex, maxUnreadBytes: number): (reply: string | Uint8Array) => void {
  let draining = false
  return (reply) => {
    if (socket.destroyed) return
    if (socket.write(reply)) return
    if (socket.writableLength > maxUnreadBytes) { socket.destroy(); return }
    if (draining) return
    draining = true
    socket.pause()
    socket.once('drain', () => { draining = false; socket.resume() })
  }
}
