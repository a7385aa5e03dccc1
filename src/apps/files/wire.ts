import type { Duplex } from 'node:stream'
import { WireError } from './errors.js'
import type { ByteBudget } from './byte-budget.js'

/**
 * The `files` service's wire format, version 1. Every frame is
 *
 *   [type u8][length u32 BE][payload]
 *
 * Control frames carry one UTF-8 JSON object; DATA carries raw bytes after a
 * fixed header, so file contents never pass through JSON:
 *
 *   DATA payload = [file index u32][chunk index u32][SHA-256 of the bytes, 32][bytes]
 *
 *   sender → receiver: OFFER {v, chunkSize, files:[{path,size,mtime}]}, DATA, FILE_END {file, digest}, ERROR
 *   receiver → sender: STATUS {state, id, have?}, DONE {id, saved}, ERROR {code, message}
 *
 * Lengths are checked from the header, before anything is buffered.
 */
export const WIRE_VERSION = 1
export const FrameType = { OFFER: 1, STATUS: 2, DATA: 3, FILE_END: 4, DONE: 5, ERROR: 6 } as const
export type FrameTypeCode = typeof FrameType[keyof typeof FrameType]

export const HEADER_BYTES = 5
export const DATA_HEADER_BYTES = 4 + 4 + 32
export const DEFAULT_CHUNK = 4 * 1024 * 1024
export const MIN_CHUNK = 64 * 1024
export const MAX_CHUNK = 4 * 1024 * 1024
/** A manifest of MAX_ENTRIES paths of ~100 bytes fits; anything bigger is refused before it is read. */
export const MAX_CONTROL_BYTES = 8 * 1024 * 1024
/** FILE_END and ERROR carry a few fields. */
export const MAX_SMALL_CONTROL_BYTES = 64 * 1024
export const MAX_ENTRIES = 50_000
/**
 * Chunks in one offer, all files together: the receiver holds 33 bytes of
 * state per chunk while the transfer is open (66 MiB at most). 8 TiB in
 * 4 MiB chunks, the sender's size; a sender may not claim a terabyte in
 * 64 KiB chunks, which made every connection allocate half a gigabyte.
 */
export const MAX_CHUNKS = 2 ** 21
export const MAX_PATH_BYTES = 1024
export const MAX_FILE_SIZE = 2 ** 50

export interface Frame { type: FrameTypeCode, payload: Buffer }
export interface DataFrame { file: number, chunk: number, hash: Buffer, bytes: Buffer }

const TYPES = new Set<number>(Object.values(FrameType))

export function encodeFrame (type: FrameTypeCode, payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES)
  header.writeUInt8(type, 0)
  header.writeUInt32BE(payload.length, 1)
  return Buffer.concat([header, payload])
}

export function encodeControl (type: FrameTypeCode, body: object): Buffer {
  return encodeFrame(type, Buffer.from(JSON.stringify(body), 'utf8'))
}

/** The header of a DATA frame; the caller writes `bytes` right after it (no copy of the chunk). */
export function encodeDataHeader (file: number, chunk: number, hash: Buffer, length: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES + DATA_HEADER_BYTES)
  h.writeUInt8(FrameType.DATA, 0)
  h.writeUInt32BE(DATA_HEADER_BYTES + length, 1)
  h.writeUInt32BE(file, 5)
  h.writeUInt32BE(chunk, 9)
  hash.copy(h, 13)
  return h
}

export function decodeData (payload: Buffer): DataFrame {
  if (payload.length < DATA_HEADER_BYTES) throw new WireError('BAD_FRAME', 'a data frame is shorter than its header')
  return { file: payload.readUInt32BE(0), chunk: payload.readUInt32BE(4), hash: payload.subarray(8, 40), bytes: payload.subarray(40) }
}

const decoder = new TextDecoder('utf-8', { fatal: true })

export function decodeControl (frame: Frame): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(frame.payload))
  } catch {
    throw new WireError('BAD_FRAME', 'a control frame is not UTF-8 JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WireError('BAD_FRAME', 'a control frame is not a JSON object')
  return value as Record<string, unknown>
}

/** The largest payload a frame of `type` may have, given the negotiated chunk size. */
function maxPayload (type: number, chunkSize: number): number {
  if (type === FrameType.DATA) return DATA_HEADER_BYTES + chunkSize
  return type === FrameType.FILE_END || type === FrameType.ERROR ? MAX_SMALL_CONTROL_BYTES : MAX_CONTROL_BYTES
}

/** How readFrames bounds and places what it reads. */
export interface FrameLimits {
  /** The negotiated chunk size (before an offer, the most the reader accepts): DATA frames may be this plus their header. */
  chunkSize: () => number
  /** Where a DATA payload of `bytes` is assembled (default: a new buffer); the frame's consumer owns it. */
  dataBuffer?: (bytes: number) => Buffer
  /**
   * Shared with other readers: the bytes of OFFER payloads being assembled,
   * taken as they arrive (a header that merely claims 8 MiB takes nothing).
   * Past it, reading fails with RECEIVER_BUSY: the sender tries again later.
   */
  offerBudget?: ByteBudget
  /**
   * While it returns a number, reading fails with IDLE once no byte has come
   * for that many milliseconds while the reader waits for one: the time the
   * consumer spends on a frame (the receiver waiting on its own disk) does
   * not count.
   */
  idleMs?: () => number | undefined
}

/**
 * Reads frames from `socket` with backpressure (async iteration pauses the
 * socket while the consumer works). Throws WireError on an unknown type or an
 * oversized length, as soon as the header arrives. A DATA payload is copied
 * once, piece by piece as it arrives, into a buffer of its size (at most a
 * chunk and its header, for the one frame being read); a control payload is
 * kept as the pieces that arrived (copies of those that were part of a
 * chunk) and joined when complete, so a header that merely claims 8 MiB
 * reserves nothing.
 */
export async function * readFrames (socket: Duplex, limits: FrameLimits): AsyncGenerator<Frame> {
  const head = Buffer.alloc(HEADER_BYTES)
  let headHave = 0
  let inFrame = false
  let type = 0
  let need = 0
  let have = 0
  let body: Buffer | undefined // a DATA payload being assembled
  let pieces: Buffer[] = [] // a control payload's pieces
  let taken = 0 // of limits.offerBudget, for those pieces
  const giveBack = (): void => { limits.offerBudget?.give(taken); taken = 0 }
  // destroyOnReturn false: leaving the loop (an error, the end) must not drop an error or DONE frame still being written
  const chunks = socket.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>
  try {
    for (;;) {
      const next = await nextChunk(chunks, limits.idleMs?.())
      if (next.done === true) break
      const chunk = next.value
      let off = 0
      while (off < chunk.length) {
        if (!inFrame) {
          const n = Math.min(HEADER_BYTES - headHave, chunk.length - off)
          chunk.copy(head, headHave, off, off + n)
          headHave += n
          off += n
          if (headHave < HEADER_BYTES) break
          headHave = 0
          type = head.readUInt8(0)
          need = head.readUInt32BE(1)
          if (!TYPES.has(type)) throw new WireError('BAD_FRAME', `unknown frame type ${type}`)
          if (need > maxPayload(type, limits.chunkSize())) throw new WireError('FRAME_TOO_LARGE', `a frame of ${need} bytes is larger than allowed`)
          inFrame = true
          have = 0
          if (type === FrameType.DATA) body = limits.dataBuffer != null ? limits.dataBuffer(need) : Buffer.allocUnsafe(need)
        }
        const n = Math.min(need - have, chunk.length - off)
        if (body != null) chunk.copy(body, have, off, off + n)
        else if (n > 0) {
          if (limits.offerBudget != null && type === FrameType.OFFER) {
            if (!limits.offerBudget.take(n)) throw new WireError('RECEIVER_BUSY', 'the receiver is reading too many offers at once; sending again shortly')
            taken += n
          }
          // a whole chunk is kept as it is; a copy of part of one, as a view would keep the whole chunk it came in
          pieces.push(n === chunk.length ? chunk : Buffer.from(chunk.subarray(off, off + n)))
        }
        have += n
        off += n
        if (have < need) break
        const payload = body ?? (pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, need))
        inFrame = false
        body = undefined
        pieces = []
        giveBack()
        yield { type: type as FrameTypeCode, payload }
      }
    }
    if (headHave > 0 || inFrame) throw new WireError('TRUNCATED', 'the connection ended inside a frame')
  } finally {
    giveBack()
    // as a for-await loop would: the iterator lets go of the socket (after a pending read, if one timed out)
    chunks.return?.().catch(() => {})
  }
}

/** The socket's next chunk, or WireError IDLE if none comes within `idleMs`. */
async function nextChunk (chunks: AsyncIterator<Buffer>, idleMs: number | undefined): Promise<IteratorResult<Buffer>> {
  if (idleMs == null) return await chunks.next()
  let timer: NodeJS.Timeout | undefined
  const idle = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new WireError('IDLE', `nothing arrived for ${Math.round(idleMs / 1000)} s`)) }, idleMs)
  })
  try {
    return await Promise.race([chunks.next(), idle])
  } finally {
    clearTimeout(timer)
  }
}
