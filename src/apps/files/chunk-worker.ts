/**
 * The thread behind ChunkIo (chunk-io.ts): hashes a chunk and reads it into
 * memory shared with the event loop's thread, or checks and writes one handed
 * over to it, so neither the hashing nor the disk I/O runs on that loop.
 * Synchronous calls are right here: this thread does nothing else.
 *
 * A write given a `directFd` (the same file opened with O_DIRECT) goes from
 * memory to the disk without the page cache when the chunk is block-aligned:
 * a received file is written once and not read again soon, and copying it
 * into fresh page-cache pages was most of the receiver's CPU (on the bench's
 * VM 2-3 s per GiB, against 0.3 s direct: docs/BENCHMARKS.md). O_DIRECT needs
 * the memory aligned too, which an ArrayBuffer is not and a WebAssembly
 * memory is (page-aligned), so the chunk is copied into one first.
 */
import { createHash } from 'node:crypto'
import { readSync, writeSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

/** A request; `[offset, offset + length)` of `slot` is the chunk: shared with the caller for a read, handed over for a write. */
export type ChunkRequest =
  | { id: number, op: 'read', fd: number, position: number, slot: SharedArrayBuffer, offset: number, length: number }
  | { id: number, op: 'write', fd: number, directFd?: number, position: number, slot: ArrayBuffer, offset: number, length: number, expected: Uint8Array }

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
  if (req.directFd == null || !writeDirect(req.directFd, view, req.position)) writeAll(req.fd, view, req.position)
  return { id: req.id, written: true, slot: req.slot }
}

/** Offsets, lengths and memory of O_DIRECT writes are multiples of this (the largest common logical block size). */
const DIRECT_ALIGN = 4096
const WASM_PAGE = 64 * 1024
/** The part of WebAssembly.Memory used here (the project's lib has no WebAssembly types). */
interface WasmMemory { readonly buffer: ArrayBuffer, grow: (pages: number) => number }
const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly
let aligned: WasmMemory | undefined

/** `bytes` at `position` through an O_DIRECT fd; false if the chunk is not aligned or the file system refuses (write it buffered). */
function writeDirect (fd: number, bytes: Buffer, position: number): boolean {
  if (position % DIRECT_ALIGN !== 0 || bytes.length % DIRECT_ALIGN !== 0 || bytes.length === 0) return false
  aligned ??= new Memory({ initial: Math.ceil(bytes.length / WASM_PAGE) })
  const have = aligned.buffer.byteLength
  if (have < bytes.length) aligned.grow(Math.ceil((bytes.length - have) / WASM_PAGE))
  const bounce = Buffer.from(aligned.buffer, 0, bytes.length)
  bytes.copy(bounce)
  try {
    writeAll(fd, bounce, position)
  } catch (err) {
    // some file systems take the O_DIRECT open and refuse the write
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return false
    throw err
  }
  return true
}

function writeAll (fd: number, bytes: Buffer, position: number): void {
  let put = 0
  while (put < bytes.length) {
    const n = writeSync(fd, bytes, put, bytes.length - put, position + put)
    // a file system that takes nothing and reports no error would loop here for ever
    if (n === 0) throw Object.assign(new Error('the file system accepted no bytes'), { code: 'EIO' })
    put += n
  }
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
