import { Worker } from 'node:worker_threads'
import { packageFile } from '../../util/package-files.js'
import type { ChunkReply, ChunkRequest } from './chunk-worker.js'

/** A request without its id (Omit over each member of the union). */
type ChunkRequestBody = ChunkRequest extends infer R ? R extends ChunkRequest ? Omit<R, 'id'> : never : never

/** A worker idle this long is stopped and the pooled memory let go: an idle daemon keeps neither. */
const IDLE_MS = 10_000
/** Pooled memory kept per buffer size (a receiving transfer holds ~16 MiB at once, see receiver.ts). */
const POOL_BYTES_PER_SIZE = 48 * 1024 * 1024

/**
 * Chunks hashed and read or written on a worker thread, without copying them.
 *
 * Why: WebCrypto's digest copies every chunk before hashing it elsewhere, and
 * a fresh buffer per received chunk brings V8's full garbage collections;
 * together that was ~0.3 s of the event loop per GiB on each side, besides
 * the hashing. Here a sender's chunks are read and hashed by the worker into
 * memory shared with it, which the event loop then sends as it is; a
 * receiver's chunks are assembled in pooled buffers that move to the worker
 * (transferred, not copied) to be checked and written, and come back. Not
 * shared memory there: V8 copies into a SharedArrayBuffer ~4 times slower,
 * and every received byte is copied once into its chunk.
 *
 * One worker serves the process (every transfer of a daemon), started on
 * first use.
 */
export class ChunkIo {
  private worker?: Worker
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (r: ChunkReply) => void, reject: (e: Error) => void }>()
  private readonly pool = new Map<number, ArrayBuffer[]>()
  /** The sizes `buffer()` has allocated: what `release` may take back. */
  private readonly capacities = new Set<number>()
  private idle?: NodeJS.Timeout

  constructor (private readonly idleMs = IDLE_MS) {}

  /** Whether the worker thread is up (it stops when idle). */
  get running (): boolean {
    return this.worker != null
  }

  /** `bytes` of memory shared with the worker (for reads: the worker fills it where it is). */
  sharedBuffer (bytes: number): Buffer {
    return Buffer.from(new SharedArrayBuffer(bytes), 0, bytes)
  }

  /** `bytes` from a pooled buffer of `capacity` bytes, to be given to `verifyAndWrite` (or back with `release`). */
  buffer (bytes: number, capacity = bytes): Buffer {
    if (bytes > capacity) capacity = bytes
    this.capacities.add(capacity)
    const ab = this.pool.get(capacity)?.pop() ?? new ArrayBuffer(capacity)
    return Buffer.from(ab, 0, bytes)
  }

  /** Returns a `buffer()` to the pool: its bytes will be overwritten, so nothing may still read them. */
  release (buf: Buffer): void {
    const ab = buf.buffer
    // only memory of a size handed out here: never shared memory, a buffer given away, or Node's own pool
    if (!(ab instanceof ArrayBuffer) || ab.byteLength === 0 || !this.capacities.has(ab.byteLength)) return
    const free = this.pool.get(ab.byteLength) ?? []
    if ((free.length + 1) * ab.byteLength <= POOL_BYTES_PER_SIZE) free.push(ab)
    this.pool.set(ab.byteLength, free)
  }

  /** Reads up to `into.length` bytes at `position` of `fd` into `into` (best from `sharedBuffer`) and hashes what was read. */
  async readAndHash (fd: number, position: number, into: Buffer): Promise<{ bytesRead: number, hash: Buffer }> {
    const shared = into.buffer instanceof SharedArrayBuffer ? into : this.sharedBuffer(into.length)
    const reply = await this.request({ op: 'read', fd, position, slot: shared.buffer as SharedArrayBuffer, offset: shared.byteOffset, length: shared.length }, [])
    if (!('bytesRead' in reply)) throw new Error('chunk worker: a read was answered as a write')
    if (shared !== into) shared.copy(into, 0, 0, reply.bytesRead)
    return { bytesRead: reply.bytesRead, hash: Buffer.from(reply.hash) }
  }

  /**
   * Writes `data` at `position` of `fd` if its SHA-256 is `expected`; false
   * (nothing written) if not. `give`: `data` is from `buffer()` and nothing
   * else uses its memory, which then moves to the worker without a copy and
   * back into the pool (every view of it is empty from the call on).
   * `directFd`: the same file opened with O_DIRECT, used where the chunk is
   * block-aligned (chunk-worker.ts).
   */
  async verifyAndWrite (fd: number, position: number, data: Buffer, expected: Buffer, give = false, directFd?: number): Promise<boolean> {
    let moved = data
    if (!give || !(data.buffer instanceof ArrayBuffer)) {
      moved = this.buffer(data.length)
      data.copy(moved)
    }
    const slot = moved.buffer as ArrayBuffer
    const reply = await this.request({ op: 'write', fd, directFd, position, slot, offset: moved.byteOffset, length: moved.length, expected: new Uint8Array(expected) }, [slot])
    if (!('written' in reply)) throw new Error('chunk worker: a write was answered as a read')
    if (reply.slot != null) this.release(Buffer.from(reply.slot))
    return reply.written
  }

  private async request (req: ChunkRequestBody, transfer: ArrayBuffer[]): Promise<ChunkReply> {
    const worker = this.start()
    const id = this.nextId++
    clearTimeout(this.idle)
    const reply = await new Promise<ChunkReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      try {
        worker.postMessage({ ...req, id }, transfer)
      } catch (err) { // memory that cannot be handed over (already given away): nothing was sent
        this.pending.delete(id)
        if (this.pending.size === 0) this.idleSoon()
        reject(err as Error)
      }
    })
    if ('error' in reply) throw Object.assign(new Error(reply.error.message), { code: reply.error.code })
    return reply
  }

  private start (): Worker {
    if (this.worker != null) return this.worker
    const worker = new Worker(packageFile('dist', 'src', 'apps', 'files', 'chunk-worker.js'), { resourceLimits: { maxOldGenerationSizeMb: 32 } })
    worker.unref() // a transfer's own sockets keep the process alive, not this thread
    worker.on('message', (reply: ChunkReply) => {
      const p = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      p?.resolve(reply)
      if (this.pending.size === 0) this.idleSoon()
    })
    const lost = (err: Error): void => {
      if (this.worker !== worker) return
      this.worker = undefined
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    }
    worker.on('error', lost)
    worker.on('exit', (code) => lost(new Error(`the chunk worker stopped (exit code ${code})`)))
    this.worker = worker
    return worker
  }

  private idleSoon (): void {
    clearTimeout(this.idle)
    this.idle = setTimeout(() => {
      if (this.pending.size > 0) return
      const w = this.worker
      this.worker = undefined
      this.pool.clear()
      this.capacities.clear()
      void w?.terminate()
    }, this.idleMs).unref()
  }
}

/** The process's one ChunkIo. */
export const chunkIo = new ChunkIo()
