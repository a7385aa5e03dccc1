import type { Socket } from 'node:net'

/**
 * The bytes an application sent along with its connect, if they are already
 * in the kernel when the socket is accepted; undefined after one turn of the
 * event loop without them. The socket must be paused (`pauseOnConnect`) and
 * is paused again when this resolves.
 *
 * A forward sends these in the same flight as its service request
 * (SessionManager.connectEarly's `firstBytes`): request and bytes then cost
 * the remote daemon one wake-up, one TLS record and one read, instead of the
 * bytes arriving a moment later while it is connecting to the service
 * (docs/BENCHMARKS.md, warm connect). An application whose server speaks
 * first (VNC, SMTP) sends nothing yet, and its request leaves one loop turn
 * later than it would have.
 */
export async function firstBytesIfSent (socket: Socket): Promise<Buffer | undefined> {
  return await new Promise<Buffer | undefined>((resolve) => {
    let timer: NodeJS.Immediate | undefined
    const done = (bytes: Buffer | undefined): void => {
      socket.pause()
      socket.off('data', onData)
      if (timer != null) clearImmediate(timer)
      resolve(bytes)
    }
    const onData = (bytes: Buffer): void => { done(bytes) }
    // an EOF read meanwhile ends the socket unseen: pipeSocketStream looks
    // at readableEnded when it starts
    socket.on('data', onData)
    socket.resume()
    // accepted in this turn's poll phase; the read of bytes already here
    // happens in the next turn's, before its second check phase
    timer = setImmediate(() => { timer = setImmediate(() => { done(undefined) }) })
  })
}
