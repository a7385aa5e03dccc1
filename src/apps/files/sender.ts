import { open } from 'node:fs/promises'
import type { Duplex } from 'node:stream'
import { connect, TRY_WHEN_ONLINE } from '../../sdk/index.js'
import { CspaceError } from '../../errors.js'
import { FrameType, decodeControl, encodeControl, encodeDataHeader, readFrames } from './wire.js'
import { buildManifest, chunkCount, totalBytes, transferId, type BuiltManifest, type Manifest, type SourceFile } from './manifest.js'
import { fileDigest } from './partial.js'
import { chunkIo } from './chunk-io.js'
import { ChunkRing } from './chunk-ring.js'
import { ReceiverDiskFull, SourceChanged, SourceUnreadable, TransferCancelled, TransferDeclined, TransferGaveUp, TransferRejected } from './errors.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { FILES_SERVICE } from './host.js'
import { MAX_ENTRIES } from './wire.js'
import { printable } from '../../util/printable.js'
import { describeWireValue } from '../../util/wire-value.js'

/** What `cspace send` reports as it goes (also its `--json` lines). */
export type SendEvent =
  | { event: 'offer', id: string, files: number, totalBytes: number }
  | { event: 'waiting', id: string }
  | { event: 'accepted', id: string, resumedBytes: number }
  | { event: 'progress', id: string, bytes: number, totalBytes: number, rate: number, eta: number | null }
  | { event: 'reconnecting', id: string, attempt: number, delayMs: number, reason: string }
  | { event: 'done', id: string, saved: string[], totalBytes: number, wireBytes: number, seconds: number }
  /** Another `cspace send` of the same files to the same user was running: this one follows it. */
  | { event: 'attached', id: string }

export interface SendOptions {
  home?: string
  onEvent?: (e: SendEvent) => void
  /** How long to keep retrying while the receiver cannot be reached (default 10 minutes). */
  retryForMs?: number
  chunkSize?: number
  /** Stops the transfer (TransferCancelled); the receiver keeps its partial data, so sending again resumes. */
  signal?: AbortSignal
  /** The paths' manifest, when the caller has read it already. */
  built?: BuiltManifest
}

export interface SendResult { id: string, saved: string[], wireBytes: number }

/** Lost the connection: worth another try. */
class Retry extends Error {}
/** The receiver is taking these files from another connection: worth waiting for, however long that takes. */
class Busy extends Retry {}

/**
 * Sends files and directory trees to `to`'s `files` service. Reconnects with
 * backoff after a disconnect and resumes; the receiver says which chunks it
 * holds, and only the others are sent. Running the same command again after
 * a crash resumes too, since the transfer ID is derived from the manifest.
 */
export async function sendFiles (to: string, paths: string[], options: SendOptions = {}): Promise<SendResult> {
  const { manifest, sources } = options.built ?? buildManifest(paths, options.chunkSize)
  const emit = options.onEvent ?? (() => {})
  const total = totalBytes(manifest)
  const started = Date.now()
  const counters = { wire: 0, rate: new RateMeter() }
  const retryFor = options.retryForMs ?? 10 * 60_000
  let id = ''
  let attempt = 0
  let lastProgress = Date.now()
  let everConnected = false
  const signal = options.signal
  // a function, not a test of signal.aborted: TypeScript would keep it narrowed to false across the awaits
  const cancelled = (): boolean => signal?.aborted === true
  for (;;) {
    if (cancelled()) throw new TransferCancelled()
    try {
      const socket = await connect(to, FILES_SERVICE, { home: options.home }).catch((err: CspaceError) => {
        // a refusal or a bad name will not change by waiting
        if (err.exitCode === 2 || err.code === 'NOT_ALLOWED' || err.code === 'CONTACT_NOT_FOUND') throw err
        // no local daemon at the start is a setup problem; later, it may be restarting
        if (err.code === 'DAEMON_NOT_RUNNING' && !everConnected) throw err
        // this retries by itself: the advice to try again later is not for its user
        throw new Retry(err.message.endsWith(TRY_WHEN_ONLINE) ? err.message.slice(0, -TRY_WHEN_ONLINE.length) : err.message)
      })
      everConnected = true
      const cancel = (): void => { socket.destroy() }
      signal?.addEventListener('abort', cancel, { once: true })
      if (cancelled()) cancel()
      const result = await session(socket, manifest, sources, to, emit, counters, (newId) => { id = newId }, () => { lastProgress = Date.now(); attempt = 0 })
        .finally(() => signal?.removeEventListener('abort', cancel))
      emit({ event: 'done', id: result.id, saved: result.saved, totalBytes: total, wireBytes: counters.wire, seconds: (Date.now() - started) / 1000 })
      return { ...result, wireBytes: counters.wire }
    } catch (err) {
      if (cancelled()) throw new TransferCancelled()
      if (!(err instanceof Retry)) throw err
      // the files are on their way over the other connection: that is progress, not an absence
      if (err instanceof Busy) lastProgress = Date.now()
      if (Date.now() - lastProgress > retryFor) throw new TransferGaveUp(to, err.message)
      attempt++
      const delayMs = Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 5))
      emit({ event: 'reconnecting', id, attempt, delayMs, reason: err.message })
      await sleep(delayMs, undefined, { signal }).catch(() => { throw new TransferCancelled() })
    }
  }
}

/** One connection: offer, wait for the answer, send what is missing, wait for DONE. */
async function session (socket: Duplex, manifest: Manifest, sources: SourceFile[], to: string, emit: (e: SendEvent) => void,
  counters: { wire: number, rate: RateMeter }, onId: (id: string) => void, onProgress: () => void): Promise<{ id: string, saved: string[] }> {
  socket.on('error', () => {})
  const frames = readFrames(socket, { chunkSize: () => 0 })
  socket.write(encodeControl(FrameType.OFFER, manifest))
  let sending: Promise<void> | undefined
  let stop = false
  let offered = false
  try {
    for await (const frame of frames) {
      const body = decodeControl(frame)
      if (frame.type === FrameType.STATUS) {
        const id = receiverTransferId(body.id, to)
        if (!offered) { offered = true; onId(id); emit({ event: 'offer', id, files: manifest.files.length, totalBytes: totalBytes(manifest) }) }
        if (body.state === 'waiting') emit({ event: 'waiting', id })
        if (body.state === 'declined') throw new TransferDeclined(to)
        if (body.state === 'accepted' && sending == null) {
          onProgress()
          const have = haveSet(body.have, manifest, to)
          const resumed = manifest.files.reduce((n, f, i) => n + [...Array(chunkCount(f.size, manifest.chunkSize)).keys()].filter(c => have.has(`${i}:${c}`)).reduce((s, c) => s + Math.min(manifest.chunkSize, f.size - c * manifest.chunkSize), 0), 0)
          emit({ event: 'accepted', id, resumedBytes: resumed })
          sending = sendData(socket, manifest, sources, have, id, emit, counters, onProgress, () => stop).catch((err: unknown) => {
            // resumable false: this transfer can never resume (an unreadable file can, once readable again, under the same ID)
            if (err instanceof SourceUnreadable) { socket.end(encodeControl(FrameType.ERROR, { code: 'SOURCE_CHANGED', message: err.message, ...(err instanceof SourceChanged ? { resumable: false } : {}) })); throw err }
          })
          sending.catch(() => {})
        }
      } else if (frame.type === FrameType.DONE) {
        // the names are the receiver's words, printed on the sender's terminal
        const saved = Array.isArray(body.saved) ? body.saved.slice(0, MAX_ENTRIES).filter((n): n is string => typeof n === 'string').map(n => printable(n.slice(0, 1024))) : []
        return { id: receiverTransferId(body.id, to), saved }
      } else if (frame.type === FrameType.ERROR) {
        const code = typeof body.code === 'string' && /^[A-Z_]{1,40}$/.test(body.code) ? body.code : 'FAILED'
        const message = typeof body.message === 'string' ? printable(body.message.slice(0, 500)) : 'refused'
        if (code === 'DISK_FULL') throw new ReceiverDiskFull(to)
        // another sender of the same files (a second command), or this one's connection the receiver has not seen die yet
        if (code === 'BUSY') throw new Busy(`${to} is still receiving these files over another connection`)
        if (code === 'RECEIVER_BUSY') throw new Retry(`${to} is reading too many offers at once`)
        // this side sent nothing for the receiver's idle timeout (a stall on the way): a new connection resumes
        if (code === 'IDLE') throw new Retry(`${to} heard nothing from this side for too long`)
        // not their refusal: their side failed to store (they see why in `cspace transfers`)
        if (code === 'RECEIVER_ERROR') throw new TransferRejected(code, `${to} could not store the files; ask them to check \`cspace transfers\``)
        throw new TransferRejected(code, `${to} refused the transfer: ${message}`)
      }
    }
    stop = true
    socket.destroy() // wakes a sender waiting for 'drain'
    if (sending != null) await sending // a SourceUnreadable ends the session with its own message
    throw new Retry(`the connection to ${to} was lost`)
  } catch (err) {
    // the receiver went away in the middle of a frame: like any lost connection
    if (err instanceof CspaceError && err.code !== 'TRUNCATED') throw err
    if (err instanceof Retry) throw err
    throw new Retry(`the connection to ${to} was lost (${(err as Error).message})`)
  } finally {
    stop = true
    socket.destroy()
  }
}

/** The transfer's ID as the receiver computed it (manifest.ts transferId): 16 hex digits, or the receiver is not cspace. */
function receiverTransferId (id: unknown, to: string): string {
  if (typeof id === 'string' && /^[0-9a-f]{16}$/.test(id)) return id
  throw new TransferRejected('BAD_FRAME', `${to}'s daemon sent ${describeWireValue(id, 20)} as the transfer's ID; it may be broken or hostile`)
}

/**
 * The receiver's list of chunks it holds, as "file:chunk" keys; only chunks
 * the manifest has. The list is untrusted input: a receiver holds at most
 * one range per chunk, so a longer list is refused, and overlapping ranges
 * are merged first, so the work is bounded by the chunks, not by what the
 * ranges claim (40 000 ranges each naming a whole 1 GiB file had stalled
 * the sending daemon for over a minute).
 */
function haveSet (have: unknown, m: Manifest, to: string): Set<string> {
  const out = new Set<string>()
  if (!Array.isArray(have)) return out
  const chunks = m.files.map(f => chunkCount(f.size, m.chunkSize))
  if (have.length > chunks.reduce((n, c) => n + c, 0) + m.files.length) throw new TransferRejected('BAD_FRAME', `${to}'s daemon listed more held ranges than the files have chunks; it may be broken or hostile`)
  const ranges: Array<[number, number, number]> = []
  for (const r of have) {
    if (!Array.isArray(r) || r.length !== 3 || !r.every(n => Number.isSafeInteger(n) && n >= 0)) continue
    const [f, from, end] = r as [number, number, number]
    if (f < m.files.length && from < Math.min(end, chunks[f])) ranges.push([f, from, Math.min(end, chunks[f])])
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let file = -1
  let reached = 0
  for (const [f, from, end] of ranges) {
    if (f !== file) { file = f; reached = 0 }
    for (let c = Math.max(from, reached); c < end; c++) out.add(`${f}:${c}`)
    reached = Math.max(reached, end)
  }
  return out
}

/** Chunks are read into a ChunkRing (chunk-ring.ts: why it is safe to reuse). */
async function sendData (socket: Duplex, m: Manifest, sources: SourceFile[], have: Set<string>, id: string, emit: (e: SendEvent) => void,
  counters: { wire: number, rate: RateMeter }, onProgress: () => void, stopped: () => boolean): Promise<void> {
  const total = totalBytes(m)
  let done = 0
  let lastEmit = 0
  const ring = new ChunkRing(m.chunkSize, total)
  for (const [f, src] of sources.entries()) {
    const n = chunkCount(src.size, m.chunkSize)
    const hashes = Buffer.alloc(n * 32)
    const fh = await open(src.source, 'r').catch((err: unknown) => { throw SourceUnreadable.from(src.source, err) })
    // the next chunk is read and hashed while this one is being written
    const read = async (c: number): Promise<{ buf: Buffer, hash: Buffer }> => {
      const len = Math.min(m.chunkSize, src.size - c * m.chunkSize)
      const buf = ring.next(len)
      const { bytesRead, hash } = await chunkIo.readAndHash(fh.fd, c * m.chunkSize, buf)
      if (bytesRead !== len) throw new SourceChanged(src.source)
      return { buf, hash }
    }
    let next = n > 0 ? read(0) : undefined
    next?.catch(() => {})
    try {
      for (let c = 0; c < n; c++) {
        const { buf, hash } = await next!
        next = c + 1 < n ? read(c + 1) : undefined
        next?.catch(() => {})
        if (stopped()) return
        hash.copy(hashes, c * 32)
        if (!have.has(`${f}:${c}`)) {
          socket.write(encodeDataHeader(f, c, hash, buf.length))
          const more = socket.write(buf)
          counters.wire += buf.length
          counters.rate.add(buf.length)
          onProgress()
          if (!more) await drained(socket)
        }
        done += buf.length
        const now = Date.now()
        if (now - lastEmit >= 200) {
          lastEmit = now
          const rate = counters.rate.perSecond()
          emit({ event: 'progress', id, bytes: done, totalBytes: total, rate, eta: rate > 0 ? (total - done) / rate : null })
        }
      }
    } finally {
      await next?.catch(() => {})
      await fh.close()
    }
    if (stopped()) return
    socket.write(encodeControl(FrameType.FILE_END, { file: f, digest: fileDigest(hashes) }))
  }
  emit({ event: 'progress', id, bytes: total, totalBytes: total, rate: counters.rate.perSecond(), eta: 0 })
}

async function drained (socket: Duplex): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => { socket.off('drain', done); socket.off('close', done); resolve() }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

/** Bytes per second over the last few seconds. */
export class RateMeter {
  private samples: Array<[number, number]> = []
  add (bytes: number): void {
    const now = Date.now()
    this.samples.push([now, bytes])
    while (this.samples.length > 1 && now - this.samples[0][0] > 3000) this.samples.shift()
  }

  perSecond (): number {
    if (this.samples.length < 2) return 0
    const span = (this.samples[this.samples.length - 1][0] - this.samples[0][0]) / 1000
    return span <= 0 ? 0 : this.samples.slice(1).reduce((n, s) => n + s[1], 0) / span
  }
}

export { transferId }
