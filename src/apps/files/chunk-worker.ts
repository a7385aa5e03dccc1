/**
 * The thread behind ChunkIo (chunk-io.ts): hashes a chunk and reads it into
 * memory shared with the event loop's thread, or checks and writes one handed
 * over to it, so neither the hashing nor the disk I/O runs on that loop.
 * Synchronous calls are right here: this thread does nothing else.
 */
import { createHash } from 'node:crypto'
import { readSync, writeSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

/** A request; `[offset, offset + length)` of `slot` is the chunk: shared with the caller for a read, handed over for a write. */
export type ChunkRequest =
  | { id: number, op: 'read', fd: number, position: number, slot: SharedArrayBuffer, offset: number, length: number }
  | { id: number, op: 'write', fd: number, position: number, slot: ArrayBuffer, offset: number, length: number, expected: Uint8Array }

/** The answer: a read's byte count and hash, a write's verdict, or the system error that stopped it. */
export type ChunkReply =
  | { id: number, bytesRead: number, hash: Uint8Array }
  | { id: number, written: boolean, slot?: ArrayBuffer }
  | { id: number, error: { code?: string, message: string } }

function handle (req: ChunkRequest): ChunkReply {
  const view = Buffer.from(req.slot, req.offset, req.length)
  if (req.op === 'read') {
    let got = 0
    while (got < req.length) {
      const n = readSync(req.fd, view, got, req.length - got, req.position + got)
      if (n === 0) break // the file is shorter than it was: the caller reports it
      got += n
    }
    return { id: req.id, bytesRead: got, hash: createHash('sha256').update(view.subarray(0, got)).digest() }
  }
  // a chunk that does not match its hash is never written
  if (!createHash('sha256').update(view).digest().equals(req.expected)) return { id: req.id, written: false, slot: req.slot }
  let put = 0
  while (put < req.length) {
    const n = writeSync(req.fd, view, put, req.length - put, req.position + put)
    // a file system that takes nothing and reports no error would loop here for ever
    if (n === 0) throw Object.assign(new Error('the file system accepted no bytes'), { code: 'EIO' })
    put += n
  }
  return { id: req.id, written: true, slot: req.slot }
}

parentPort?.on('message', (req: ChunkRequest) => {
  let reply: ChunkReply
  try {
    reply = handle(req)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    reply = { id: req.id, error: { code: e.code, message: e.message } }
  }
  // a write's memory goes back to the caller's pool
  parentPort?.postMessage(reply, 'slot' in reply && reply.slot != null ? [reply.slot] : [])
})
