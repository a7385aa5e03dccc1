import { chunkIo } from './chunk-io.js'

/** The ring's size: far above what the layers below the sender hold before pushing back. */
export const RING_BYTES = 16 * 1024 * 1024
const RING_MIN_CHUNKS = 6

/**
 * The sender's chunk buffers: each chunk is read into the next stretch of
 * one shared ring per session, RING_BYTES (at least RING_MIN_CHUNKS whole
 * chunks), wrapping at its end. A fresh buffer per chunk cost the sending
 * daemon ~2.5 s of CPU per GiB, mostly garbage collection (V8 answers
 * external memory with full collections).
 *
 * A byte is read into again only after a ring's length (less one chunk)
 * more has been read, while below the sender no layer holds more than a few
 * MiB before pushing back (the pipe's queue bound, the TLS socket's
 * high-water mark, yamux's window). The ring is counted in bytes, not
 * chunks: a ring of six chunk-sized slots let a thousand 2 kB files reuse a
 * slot whose bytes were still queued (the receiver refused the chunk). Each
 * chunk's SHA-256 is taken as it is read, so a stretch overwritten before its
 * bytes left would still be refused (CHUNK_CORRUPT), never stored.
 */
export class ChunkRing {
  private readonly ring: Buffer
  private at = 0

  /** `total`: what the session sends at most; a ring that size or less never wraps. */
  constructor (chunkSize: number, total: number) {
    this.ring = chunkIo.sharedBuffer(Math.max(1, Math.min(total, Math.max(RING_BYTES, RING_MIN_CHUNKS * chunkSize))))
  }

  /** The next `length` bytes of the ring (at most one chunk). */
  next (length: number): Buffer {
    if (this.at + length > this.ring.length) this.at = 0
    const stretch = this.ring.subarray(this.at, this.at + length)
    this.at += length
    return stretch
  }
}
