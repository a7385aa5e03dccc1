import type { Duplex } from 'node:stream'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { corkForTick } from '../util/cork.js'

/**
 * Bytes a stream may hold unsent before the socket feeding it is paused. Small,
 * because every open tunnel can hold this much; 256 KiB still keeps a loopback
 * stream at full speed (measured: 2.1 Gbit/s in-process, same as unbounded).
 */
export const STREAM_QUEUE_HIGH_WATER = 256 * 1024

/**
 * True once a stream will deliver nothing more. A FIN that came after the
 * last bytes were dispatched ends a stream without closing its readable end
 * (libp2p 3.3: it stays "readable" while our writable end is open), and its
 * 'end' event has gone by then, so the remote's side is looked at too.
 */
export function readableEnded (stream: Stream): boolean {
  return stream.readStatus === 'closed' || (stream.remoteWriteStatus === 'closed' && stream.readBufferLength === 0)
}

/**
 * Joins a local TCP socket (or any duplex: a child's stdio) and a cspace stream: bytes both ways, backpressure
 * both ways (a full side pauses the other), half-close both ways (EOF on one
 * side ends writing on the other), and an error on either side tears down both.
 * This is the data path of every tunnel, so it does no copying of its own.
 * Resolves when both directions are finished.
 *
 * With `remoteAccepted` (a stream from SessionManager.connectEarly) the
 * socket's bytes flow at once, but the stream is read only once the remote
 * has accepted; if it refuses, the socket is destroyed. `onFirstReply` is
 * called once, when the stream's first bytes have been written to the socket
 * (or the pipe is done).
 */
export async function pipeSocketStream (socket: Duplex, stream: Stream, options: { remoteAccepted?: Promise<void>, onFirstReply?: () => void } = {}): Promise<void> {
  return await new Promise<void>((resolve) => {
    let done = false
    let onFirstReply = options.onFirstReply
    const replied = (): void => { onFirstReply?.(); onFirstReply = undefined }
    const finish = (): void => {
      if (done) return
      done = true
      replied()
      resolve()
    }

    // socket → stream
    let waitingForRoom = false
    const resumeIfRoom = (): void => {
      if (stream.writeStatus !== 'writable') return stopWaiting()
      // A 'drain' is not proof that this stream has room: yamux dispatches it
      // to every stream whenever the connection drains, even to a stream whose
      // own send window is still shut. Trusting it let each such stream queue
      // 64 KiB more per wake-up, and with 4 parallel streams the sending daemon
      // grew to 1.4 GiB. So resume only once its queue is really short.
      if (stream.writeBufferLength > STREAM_QUEUE_HIGH_WATER) return
      stopWaiting()
      socket.resume()
    }
    // after libp2p's own 'drain' handler, which sends what the window allows
    const onRoomMaybe = (): void => { queueMicrotask(resumeIfRoom) }
    const stopWaiting = (): void => {
      waitingForRoom = false
      stream.removeEventListener('drain', onRoomMaybe)
      stream.removeEventListener('idle', onRoomMaybe)
    }
    socket.on('data', (buf: Buffer) => {
      if (stream.writeStatus !== 'writable') return
      const accepted = stream.send(buf)
      if ((accepted && stream.writeBufferLength <= STREAM_QUEUE_HIGH_WATER) || waitingForRoom) return
      waitingForRoom = true
      socket.pause()
      stream.addEventListener('drain', onRoomMaybe)
      stream.addEventListener('idle', onRoomMaybe)
    })
    let socketEnded = false
    const onSocketEnd = (): void => {
      if (socketEnded) return
      socketEnded = true
      stream.close().catch((err: Error) => stream.abort(err))
    }
    socket.on('end', onSocketEnd)
    // a socket that sent its EOF before the pipe began (firstBytesIfSent)
    if (socket.readableEnded) onSocketEnd()
    socket.on('error', (err) => {
      // After the socket's EOF its bytes are all queued on the stream, whose
      // close sends them before the FIN; a reset would throw that queue away
      // (an app that ends with a RST after its last byte). Reset only if the
      // remote may still be sending to a dead socket.
      if (socketEnded && stream.readStatus === 'closed') return
      stream.abort(err)
    })
    socket.on('close', () => {
      // a socket gone without its EOF having been sent on: reset the stream
      if (stream.status === 'open' && stream.writeStatus === 'writable') stream.abort(new Error('local socket closed'))
      if (stream.status !== 'open') finish()
    })

    // stream → socket, once the remote has accepted
    const streamToSocket = (): void => {
      let pausing = false
      stream.addEventListener('message', (evt) => {
        const data = evt.data
        let ok = true
        // the pieces that arrive together leave in one write
        corkForTick(socket)
        if (data instanceof Uint8Array) ok = socket.write(data)
        else for (const chunk of (data as Uint8ArrayList)) ok = socket.write(chunk)
        replied()
        if (!ok && !pausing) {
          // Pause after the current dispatch, not inside it: libp2p's resume()
          // dispatches buffered data and then re-opens the yamux window, undoing
          // a pause made during that dispatch, and the read buffer then
          // overflows and the stream is reset (found with a stalling receiver).
          pausing = true
          queueMicrotask(() => {
            pausing = false
            if (stream.readStatus !== 'readable') return
            // a writable whose write callbacks run on process.nextTick (a
            // command's stdin) may have drained already, before this microtask
            if (!socket.writableNeedDrain) return
            stream.pause()
            socket.once('drain', () => { if (stream.readStatus === 'paused') stream.resume() })
          })
        }
      })
      // A clean end has the remote's FIN before the close; a connection that
      // dies (the other daemon killed, the link lost) closes its streams with
      // no error and no FIN. Either way cut off is a reset for the program
      // too, not an EOF it would take for a clean end.
      let remoteFinished = stream.remoteWriteStatus === 'closed'
      stream.addEventListener('remoteCloseWrite', () => { remoteFinished = true })
      // 'end' (not 'remoteCloseWrite') waits until buffered bytes were delivered;
      // an end without the remote's FIN is a connection lost, which 'close' handles
      const onEnd = (): void => {
        if (remoteFinished && !socket.destroyed) socket.end()
      }
      const onClose = (error?: Error): void => {
        if (error != null || !remoteFinished) abortLocal(socket)
        // A stream paused for a slow socket can close with bytes still buffered
        // (both ends closed writing); its 'end' follows their delivery, so ending
        // the socket now would cut off the tail (found through a relay: the last
        // 256 KiB of 32 MiB lost).
        else if (stream.readBufferLength === 0 && !socket.writableEnded) socket.end()
        if (socket.destroyed || socket.closed) finish()
        else socket.once('close', finish)
      }
      stream.addEventListener('end', onEnd)
      stream.addEventListener('close', (evt) => { onClose(evt.error) })
      // A stream that ended or closed before the pipe was attached (a service
      // that answered and exited at once) has already sent those events. Look
      // after the bytes it still holds were delivered: attaching the 'message'
      // listener queued their dispatch as a microtask ahead of this one.
      queueMicrotask(() => {
        if (stream.status === 'aborted' || stream.status === 'reset') onClose(new Error(`stream ${stream.status}`))
        else if (stream.status === 'closed') onClose()
        else if (readableEnded(stream)) onEnd()
      })
    }
    if (options.remoteAccepted == null) {
      streamToSocket()
    } else {
      options.remoteAccepted.then(streamToSocket, () => {
        abortLocal(socket) // refused: the program must not take it for a clean end
        finish()
      })
    }
  })
}

/** Ends the local side abruptly: a TCP socket with a reset (its program sees ECONNRESET), anything else destroyed. */
export function abortLocal (socket: Duplex): void {
  const tcp = socket as Duplex & { resetAndDestroy?: () => void }
  try {
    if (typeof tcp.resetAndDestroy === 'function') { tcp.resetAndDestroy(); return }
  } catch {} // not a TCP socket (a Unix one): Node throws
  socket.destroy()
}
