import type { Readable } from 'node:stream'

/** Why a line could not be read: too long, not UTF-8, not a JSON object. */
export class LineError extends Error {
  constructor (readonly kind: 'too-long' | 'bad-utf8' | 'bad-json', message: string) {
    super(message)
    this.name = 'LineError'
  }
}

/**
 * Splits a byte stream into '\n'-terminated JSON objects, each at most
 * `maxBytes`; a line that is too long, not valid UTF-8 or not a JSON object
 * is an error for the caller to report (the stream cannot be trusted after it).
 */
export class JsonLineReader {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor (private readonly maxBytes: number) {}

  /** Feeds bytes; returns the complete objects, or throws LineError. */
  push (chunk: Buffer): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = []
    let start = 0
    let nl: number
    while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
      const piece = chunk.subarray(start, nl)
      if (this.pendingBytes + piece.length > this.maxBytes) throw this.tooLong()
      const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece])
      this.pending = []
      this.pendingBytes = 0
      start = nl + 1
      if (line.length === 0) continue
      out.push(this.parse(line))
    }
    const rest = chunk.subarray(start)
    if (rest.length > 0) {
      this.pendingBytes += rest.length
      if (this.pendingBytes > this.maxBytes) throw this.tooLong()
      this.pending.push(Buffer.from(rest))
    }
    return out
  }

  /** Bytes of an unterminated last line (a peer that hung up mid-message). */
  get buffered (): number {
    return this.pendingBytes
  }

  private parse (line: Buffer): Record<string, unknown> {
    let text: string
    try {
      text = this.decoder.decode(line)
    } catch {
      throw new LineError('bad-utf8', 'a message is not valid UTF-8')
    }
    let value: unknown
    try { value = JSON.parse(text) } catch { throw new LineError('bad-json', 'a message is not JSON') }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LineError('bad-json', 'a message is not a JSON object')
    return value as Record<string, unknown>
  }

  private tooLong (): LineError {
    return new LineError('too-long', `a message is longer than ${this.maxBytes} bytes`)
  }
}

/** Reads JSON lines from a socket into `onMessage`; on a LineError calls `onError` and stops reading. */
export function readJsonLines (socket: Readable, maxBytes: number, onMessage: (m: Record<string, unknown>) => void, onError: (err: LineError) => void): void {
  const reader = new JsonLineReader(maxBytes)
  const onData = (chunk: Buffer): void => {
    let messages: Array<Record<string, unknown>>
    try {
      messages = reader.push(chunk)
    } catch (err) {
      socket.off('data', onData)
      onError(err as LineError)
      return
    }
    for (const m of messages) onMessage(m)
  }
  socket.on('data', onData)
}

export function jsonLine (message: object): string {
  return JSON.stringify(message) + '\n'
}
