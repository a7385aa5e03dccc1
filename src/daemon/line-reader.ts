import type { Socket } from 'node:net'

/**
 * Reads one '\n'-terminated line from a socket, at most `maxBytes`, and puts
 * any bytes after it back so the application sees them. Reads in paused mode
 * ('readable' + read()), so the socket is left neither flowing nor paused:
 * bytes that came glued to the line wait for whoever attaches next.
 * Rejects on a too long line, EOF or timeout.
 */
export async function readLine (socket: Socket, maxBytes: number, timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => done(new Error('timed out waiting for the first line')), timeoutMs)
    const done = (err?: Error, line?: string, rest?: Buffer): void => {
      clearTimeout(timer)
      socket.off('readable', onReadable)
      socket.off('end', onEnd)
      socket.off('error', onError)
      if (rest != null && rest.length > 0) socket.unshift(rest)
      if (err != null) reject(err)
      else resolve(line as string)
    }
    const onReadable = (): void => {
      let chunk: Buffer | null
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
        const nl = buf.indexOf(0x0a)
        if (nl >= 0 && nl <= maxBytes) { done(undefined, buf.subarray(0, nl).toString('utf8'), buf.subarray(nl + 1)); return }
        if (nl > maxBytes || buf.length > maxBytes) { done(new Error(`first line longer than ${maxBytes} bytes`)); return }
      }
    }
    const onEnd = (): void => done(new Error('connection closed before the first line'))
    const onError = (err: Error): void => done(err)
    socket.on('readable', onReadable)
    socket.on('end', onEnd)
    socket.on('error', onError)
  })
}
