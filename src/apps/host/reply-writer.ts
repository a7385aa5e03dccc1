import type { Duplex } from 'node:stream'

/**
 * Writes replies to a peer that answers every line it sends (an ack, an
 * error), without letting a peer that sends and never reads make us buffer
 * without end: while replies are unread, reading the peer's lines waits; and
 * a peer that still has more than `maxUnreadBytes` unread when the next
 * reply or event is due (one chunk read can hold thousands of lines, each
 * answered; events come unasked) is cut off. A single reply may be larger.
 */
export function replyWriter (socket: Duplex, maxUnreadBytes: number): (reply: string | Uint8Array) => void {
  let draining = false
  return (reply) => {
    if (socket.destroyed) return
    if (socket.writableLength > maxUnreadBytes) { socket.destroy(); return }
    if (socket.write(reply)) return
    if (draining) return
    draining = true
    socket.pause()
    socket.once('drain', () => { draining = false; socket.resume() })
  }
}
