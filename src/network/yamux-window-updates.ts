import { StreamState, YamuxStream } from '@libp2p/yamux/stream'

/** The fields of @libp2p/yamux 8's YamuxStream this reads (private in its types). */
interface ReceiveWindow { state: StreamState, recvWindow: number, recvWindowCapacity: number }

let installed = false

/**
 * Makes yamux grant more receive window only once half of it is used, as
 * go-yamux and rust-yamux do (rust-yamux #109), instead of after every data
 * frame. @libp2p/yamux 8 answers each data frame with a window update, so a
 * connect and its 1-byte round trip carried 19 frames between the daemons,
 * 8 of them window updates, each its own TLS record and system call when it
 * fell in a tick of its own; with this, 11 (docs/BENCHMARKS.md, warm connect).
 * A stalled sender is never left waiting: its window only runs out after the
 * receiver has taken the whole window, well past half. Frames that carry a
 * flag (SYN's ACK) and the doubling of the window still go through the
 * library's own code; this only decides when a plain update is due.
 */
export function sendWindowUpdatesAtHalfWindow (): void {
  if (installed) return
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate: (this: ReceiveWindow) => void }
  const update = proto.sendWindowUpdate
  if (typeof update !== 'function') throw new Error('@libp2p/yamux changed: YamuxStream.sendWindowUpdate is gone; review network/yamux-window-updates.ts')
  proto.sendWindowUpdate = function (this: ReceiveWindow): void {
    if (this.state === StreamState.Established && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) return
    update.call(this)
  }
  installed = true
}
