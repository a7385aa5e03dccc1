import type { Socket } from 'node:net'

/**
 * Reads one '\n'-terminated line from a socket, at most `maxBytes`, and puts
 * any bytes after it back so the application sees them. Rejects on a too long
 * line, EOF or timeout.
 */
export async function readLine (socket: Socket, maxBytes: number, timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => done(new Error('timed out waiting for the first line')), timeoutMs)
    const done = (err?: Error, line?: string, rest?: Buffer): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('error', onError)
      socket.pause()
      if (rest != null && rest.length > 0) socket.unshift(rest)
      if (err != null) reject(err)
      else resolve(line as string)
    }
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      const nl = buf.indexOf(0x0a)
      if (nl >= 0 && nl <= maxBytes) { done(undefined, buf.subarray(0, nl).toString('utf8'), buf.subarray(nl + 1)); return }
      if (nl > maxBytes || buf.length > maxBytes) done(new Error(`first line longer than ${maxBytes} bytes`))
    }
    const onEnd = (): void => done(new Error('connection closed before the first line'))
    const onError = (err: Error): void => done(err)
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('error', onError)
    socket.resume()
  })
}
