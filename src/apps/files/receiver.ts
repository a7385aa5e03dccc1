import { existsSync, rmSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import type { Caller } from '../../sdk/index.js'
import { CspaceError } from '../../errors.js'
import { DATA_HEADER_BYTES, FrameType, decodeControl, decodeData, encodeControl, readFrames, type Frame } from './wire.js'
import { chunkIo } from './chunk-io.js'
import { parseOffer, totalBytes, transferId, type Manifest } from './manifest.js'
import { downloadsOf, partialDirFor, type PartialTransfer } from './partial.js'
import { KeptPartials } from './kept-partials.js'
import { discardPartial, finishDeliveryBegun, recordDelivered } from './leftovers.js'
import type { FilesStore, TransferRow } from './store.js'
import { TransferRejected, WireError } from './errors.js'
import { ByteBudget } from './byte-budget.js'

const OFFER_TIMEOUT_MS = 30_000
/** How long a sender told its transfer was declined may take to close the connection. */
const DECLINED_GRACE_MS = 5000
/** Chunk bytes being checked and written at once, per transfer (2 to MAX_IN_FLIGHT chunks). */
const IN_FLIGHT_BYTES = 16 * 1024 * 1024
const MAX_IN_FLIGHT = 16

/** Live numbers for one transfer, reported with `cspace transfers --json`. */
export interface TransferStats {
  receivedBytes: number
  /** Verified bytes already held when the current connection started (after a resume). */
  resumedBytes: number
  /** Chunk bytes that arrived on the current connection, re-sends included. */
  sessionBytes: number
  /** Chunk bytes received that were already held (re-sent). */
  duplicateBytes: number
  rate: number
}

/**
 * A second connection for a transfer whose chunks arrived this recently is
 * refused (BUSY; the sender retries later) rather than taking its place: two
 * senders of the same files would otherwise replace each other until one
 * finished. A connection quiet for longer may be dead (a sender whose network
 * changed), and its sender's new connection replaces it.
 */
const BUSY_MS = 5000
/** Offers waiting for the user's answer, from one sender and from all (refuseIfTooManyWaiting). */
export const MAX_WAITING_OFFERS_PER_SENDER = 8
export const MAX_WAITING_OFFERS = 64
/** Bytes of offers being read at once, from all senders: eight of the largest size. */
export const MAX_ARRIVING_OFFER_BYTES = 64 * 1024 * 1024

interface Live { socket: Duplex, decide: (accepted: boolean) => void, done: Promise<void>, stats: TransferStats, cancelled: boolean, fail: (code: string, message: string) => void, lastChunkAt: number }

/**
 * The receiving side of `files`: one handler per incoming connection. An
 * offer is recorded, waits for the user (or is accepted at once for a contact
 * in accept-from), then chunks are checked and stored until every file is
 * complete and moved into the downloads directory. Any failure is told to the
 * sender as an ERROR frame; nothing here may throw out of the handler.
 */
export class Receiver {
  private readonly live = new Map<string, Live>()
  private closing = false
  /** Transfers being removed: a connection waiting for one gives up. */
  private readonly removing = new Set<string>()
  private readonly last = new Map<string, TransferStats>()
  private readonly arriving = new ByteBudget(MAX_ARRIVING_OFFER_BYTES)
  /** Transfers' state between a sender's connections, so a reconnect does not re-read what arrived. */
  private readonly partials = new KeptPartials()

  constructor (private readonly store: FilesStore, private readonly emit: (event: string, data: unknown) => void) {}

  stats (id: string): TransferStats | undefined {
    return this.live.get(id)?.stats ?? this.last.get(id)
  }

  /** True while a connection from the sender carries transfer `id` (false: it waits for the sender to send again). */
  connected (id: string): boolean {
    return this.live.has(id)
  }

  /** The user's answer to an offer; reaches a waiting sender at once. Declining a transfer under way cancels it. */
  decide (row: TransferRow, accepted: boolean): void {
    const open = row.state === 'pending' || row.state === 'accepted' || row.state === 'failed'
    if (!open) throw new CspaceError('TRANSFER_NOT_PENDING', `transfer ${row.id} is ${row.state}; nothing to ${accepted ? 'accept' : 'decline'}`, 2)
    this.setState(row.id, accepted ? 'accepted' : 'declined', null)
    if (!accepted) this.partials.forget(row.id) // nothing more arrives for it
    const l = this.live.get(row.id)
    if (l == null) return
    l.decide(accepted)
    if (!accepted && row.state !== 'pending') {
      l.cancelled = true
      l.socket.end(encodeControl(FrameType.STATUS, { state: 'declined', id: row.id }))
      // a sender that is told and holds on would keep the connection, and what arrived, until it went idle
      setTimeout(() => l.socket.destroy(), DECLINED_GRACE_MS).unref()
    }
  }

  /**
   * A declined transfer never resumes (a re-send is told "declined"), so
   * what had arrived of it is deleted, once no connection writes to it: at
   * once, or when its connection ends.
   */
  async discardDeclined (id: string): Promise<void> {
    const row = this.store.get(id)
    if (row?.state !== 'declined' || row.partialDir == null || this.live.has(row.id)) return
    await discardPartial(this.store, row.id, row.partialDir)
  }

  /** Drops a transfer's live connection (before removing it), and any that took its place meanwhile. */
  async drop (id: string): Promise<void> {
    for (let l = this.live.get(id); l != null; l = this.live.get(id)) {
      l.socket.destroy()
      await l.done
    }
  }

  /**
   * Removes a transfer: drops its connections, then runs `removeStored`
   * (the row and its files) while no connection may take it; one waiting
   * for it gives up instead.
   */
  async remove (id: string, removeStored: () => void): Promise<void> {
    this.removing.add(id)
    try {
      await this.drop(id)
      this.partials.forget(id)
      removeStored()
    } finally {
      this.removing.delete(id)
    }
  }

  async closeAll (): Promise<void> {
    this.closing = true // a connection waiting for a transfer's holder to go does not take its place
    await Promise.all([...this.live.keys()].map(async id => await this.drop(id)))
  }

  handle (socket: Duplex, caller: Caller): void {
    socket.on('error', () => {})
    let chunkSize = 64 * 1024
    // set once the transfer is under way: before, the offer has its own timeout and the user may take their time
    let idleMs: number | undefined
    // a chunk is assembled in a pooled buffer that moves to the chunk worker to be checked and written (chunk-io.ts)
    const frames = readFrames(socket, { chunkSize: () => chunkSize, dataBuffer: (bytes) => chunkIo.buffer(bytes, DATA_HEADER_BYTES + chunkSize), offerBudget: this.arriving, idleMs: () => idleMs })
    const fail = (code: string, message: string): void => {
      if (!socket.destroyed && !socket.writableEnded) socket.end(encodeControl(FrameType.ERROR, { code, message }))
    }
    const timer = setTimeout(() => { fail('TIMEOUT', 'no offer within 30 s'); socket.destroy() }, OFFER_TIMEOUT_MS)
    void (async () => {
      let id: string | undefined
      let partial: PartialTransfer | undefined
      // what arrived can never be resumed: dropped once this connection is done
      let unresumable = false
      let resolveDone: () => void = () => {}
      try {
        const first = await frames.next()
        clearTimeout(timer)
        if (first.done === true) return
        if (first.value.type !== FrameType.OFFER) throw new WireError('BAD_FRAME', 'the first frame must be an offer')
        const manifest = parseOffer(decodeControl(first.value))
        chunkSize = manifest.chunkSize
        id = transferId(caller.userId, manifest)
        const current = this.live.get(id)
        if (current != null && Date.now() - current.lastChunkAt < BUSY_MS) { fail('BUSY', 'these files are arriving over another connection'); return }
        // a sender that reconnects replaces its older connection. Connections
        // that raced here each wait for the one before to end, so one at a
        // time holds the transfer, the latest last; the row is read once
        // none does (what the one before did, or the user meanwhile, counts),
        // and nothing from here to holding it waits
        while (this.live.has(id)) await this.drop(id)
        if (this.closing || this.removing.has(id) || socket.destroyed) return
        const row = this.record(id, manifest, caller)
        if (row.state === 'complete') { socket.end(encodeControl(FrameType.DONE, { id, saved: row.saved })); return }
        if (row.state === 'declined') { socket.end(encodeControl(FrameType.STATUS, { state: 'declined', id })); return }
        // a delivery that failed part way is finished, not received again
        const delivered = row.partialDir == null ? null : finishDeliveryBegun(this.store, id, row.partialDir)
        if (delivered != null) { this.emit('transfer', this.store.get(id)); socket.end(encodeControl(FrameType.DONE, { id, saved: delivered })); return }
        const stats: TransferStats = { receivedBytes: 0, resumedBytes: 0, sessionBytes: 0, duplicateBytes: 0, rate: 0 }
        let decide: (a: boolean) => void = () => {}
        const decision = new Promise<boolean>((resolve) => { decide = resolve })
        const done = new Promise<void>((resolve) => { resolveDone = resolve })
        const live: Live = { socket, decide, done, stats, cancelled: false, fail, lastChunkAt: 0 }
        this.live.set(id, live)
        this.emit('transfer', this.store.get(id))
        socket.once('close', () => decide(false))
        // a resumed transfer is checked below, once what it already holds is known
        if (row.partialDir == null) this.checkSpace(row, manifest, 0)
        if (row.state === 'pending') {
          socket.write(encodeControl(FrameType.STATUS, { state: 'waiting', id }))
          this.emit('offer', { id, from: row.senderName ?? row.senderUserId, files: row.fileCount, bytes: row.totalBytes })
          if (!await decision) {
            if (this.store.get(id)?.state === 'declined') socket.end(encodeControl(FrameType.STATUS, { state: 'declined', id }))
            return
          }
        }
        const settings = this.store.settings()
        const dir = this.store.get(id)?.partialDir ?? partialDirFor(settings.downloads, id)
        this.store.update(id, { state: 'accepted', partialDir: dir, error: null })
        partial = await this.partials.open(id, dir, manifest)
        stats.receivedBytes = stats.resumedBytes = partial.receivedBytes
        this.checkSpace(row, manifest, partial.receivedBytes)
        socket.write(encodeControl(FrameType.STATUS, { state: 'accepted', id, have: partial.haveRanges() }))
        // a sender that goes quiet would hold the connection and a chunk's buffer (up to 4 MiB) for good
        idleMs = settings.idleTimeoutSeconds * 1000
        await this.receive(id, frames, partial, live)
      } catch (err) {
        const d = describe(err)
        unresumable = d.code === 'SOURCE_CHANGED'
        // the sender ended it, and says why itself
        if (!unresumable) fail(d.code, d.message)
        // a connection that merely dropped stays resumable; a refusal or a storage failure is recorded for the user to see
        if (id != null && d.record && this.store.get(id) != null) this.setState(id, 'failed', d.detail)
      } finally {
        clearTimeout(timer)
        await partial?.close().catch(() => {})
        // kept unless nothing more can arrive for it (a failed transfer resumes when sent again)
        if (id != null && partial != null) { const state = this.store.get(id)?.state; this.partials.release(id, partial, unresumable || (state !== 'accepted' && state !== 'failed')) }
        if (id != null && this.live.get(id)?.socket === socket) {
          const stats = this.live.get(id)!.stats
          // while this connection still holds the transfer: a new one for it must not resume into a directory being deleted
          const dir = this.store.get(id)?.partialDir
          if (unresumable && dir != null) await discardPartial(this.store, id, dir)
          this.live.delete(id)
          // nothing arrives now: a front end must not go on showing the last rate
          stats.rate = 0
          this.last.set(id, stats)
          await this.discardDeclined(id)
          const row = this.store.get(id)
          if (row != null && row.state !== 'complete') this.emit('transfer', row)
        }
        resolveDone()
        // let an ERROR or DONE frame reach the sender; whatever it still sends is discarded
        if (!socket.destroyed) {
          socket.end()
          socket.resume()
          setTimeout(() => socket.destroy(), 5000).unref()
        }
      }
    })()
  }

  private async receive (id: string, frames: AsyncGenerator<Frame>, partial: PartialTransfer, live: Live): Promise<void> {
    const { stats, socket } = live
    const m = partial.manifest
    const finished = new Uint8Array(m.files.length)
    let unfinished = m.files.length // counted, not searched for after each file (50,000 files)
    let lastEmit = 0
    let rateBytes = 0
    let rateSince = Date.now()
    // chunks are checked and written while the next arrive (up to IN_FLIGHT_BYTES), so the network never waits for the disk
    const maxInFlight = Math.min(MAX_IN_FLIGHT, Math.max(2, Math.floor(IN_FLIGHT_BYTES / m.chunkSize)))
    const inflight = new Set<Promise<void>>()
    let failure: unknown
    // a failed write is told to the sender at once (it may be waiting for an answer); the loop then ends with the connection
    const failNow = (err: unknown): void => { const d = describe(err); live.fail(d.code, d.message) }
    const settle = async (): Promise<void> => {
      await Promise.all(inflight)
      if (failure !== undefined) throw failure
    }
    try {
      for await (const frame of frames) {
        if (live.cancelled) return // declined while arriving: keep nothing more, move nothing
        if (failure !== undefined) throw failure
        if (frame.type === FrameType.DATA) {
          const d = decodeData(frame.payload)
          const length = d.bytes.length // read now: the bytes move to the chunk worker
          live.lastChunkAt = Date.now()
          stats.sessionBytes += length
          // the payload's memory moves to the chunk worker and back into its pool (chunk-io.ts)
          const p: Promise<void> = partial.writeChunk(d.file, d.chunk, d.bytes, d.hash, true).then((fresh) => {
            if (!fresh) stats.duplicateBytes += length
            stats.receivedBytes = partial.receivedBytes
          }, (err: unknown) => { failure ??= err; failNow(err) }).finally(() => { inflight.delete(p); chunkIo.release(frame.payload) }) // if it was not given away
          inflight.add(p)
          if (inflight.size >= maxInFlight) await Promise.race(inflight)
          rateBytes += length
          const now = Date.now()
          if (now - lastEmit >= 250) {
            if (now - rateSince >= 1000) { stats.rate = rateBytes * 1000 / (now - rateSince); rateBytes = 0; rateSince = now }
            lastEmit = now
            this.emit('progress', { id, receivedBytes: stats.receivedBytes, totalBytes: totalBytes(m), rate: stats.rate })
          }
        } else if (frame.type === FrameType.FILE_END) {
          await settle()
          const body = decodeControl(frame)
          const file = body.file
          if (typeof file !== 'number' || !Number.isInteger(file) || file < 0 || file >= m.files.length || typeof body.digest !== 'string') throw new WireError('BAD_FRAME', 'a file-end frame is malformed')
          // a sender ends each file once per connection; again would only re-hash the file's chunk list
          if (finished[file] === 1) throw new WireError('BAD_FRAME', `${m.files[file].path} was ended twice`)
          const result = await partial.finishFile(file, body.digest)
          if (result === 'incomplete') throw new TransferRejected('INCOMPLETE', `${m.files[file].path} ended before all its chunks arrived`)
          if (result === 'mismatch') throw new TransferRejected('FILE_MISMATCH', `${m.files[file].path} does not match its SHA-256 (did it change while sending?); send it again`)
          finished[file] = 1
          unfinished--
          if (unfinished === 0) {
            // into the downloads directory of the time it was accepted: the partial data is beside it, so this is a rename
            // declined or being removed while its files were readied: not delivered
            const saved = await partial.finalize(downloadsOf(partial.dir), () => !live.cancelled && !this.removing.has(id))
            if (saved == null) return
            recordDelivered(this.store, id, saved, partial.dir)
            stats.receivedBytes = totalBytes(m)
            this.emit('progress', { id, receivedBytes: stats.receivedBytes, totalBytes: totalBytes(m), rate: stats.rate })
            this.emit('transfer', this.store.get(id))
            socket.end(encodeControl(FrameType.DONE, { id, saved }))
            return
          }
        } else if (frame.type === FrameType.ERROR) {
          // a file's size changed under the sender: sent again, it is another transfer (its ID is of sizes and times), so this one can never
          // resume (a sender before `resumable` sent the same code for an unreadable file too, which can: what arrived then stays)
          const why = decodeControl(frame)
          if (why.code === 'SOURCE_CHANGED' && why.resumable === false) throw new WireError('SOURCE_CHANGED', 'the sender\'s files changed while they were sent; a new send of them is a new transfer')
          return // the sender gave up; the partial data stays for a resume
        } else {
          throw new WireError('BAD_FRAME', `unexpected frame type ${frame.type}`)
        }
      }
      await settle()
    } catch (err) {
      throw failure ?? err // the write that failed is the cause, not the connection the sender then dropped
    } finally {
      await Promise.allSettled(inflight) // before the partial files are closed
    }
  }

  /** The offer's row: new (pending, or accepted for a contact in accept-from), or the one a re-send resumes. */
  private record (id: string, manifest: Manifest, caller: Caller): TransferRow {
    const name = caller.contactName ?? null
    const auto = name != null && this.store.settings().acceptFrom.some(n => n.toLowerCase() === name.toLowerCase())
    const row = this.store.get(id)
    if (row == null && !auto) this.refuseIfTooManyWaiting(caller)
    if (row == null) {
      this.store.insert({ id, senderUserId: caller.userId, senderName: name, manifest, totalBytes: totalBytes(manifest), fileCount: manifest.files.length, state: auto ? 'accepted' : 'pending', partialDir: null })
    } else if (row.state === 'failed' && row.partialDir == null) {
      this.store.update(id, { state: auto ? 'accepted' : 'pending', error: null, senderName: name })
    } else if (row.state === 'failed') {
      this.store.update(id, { state: 'accepted', error: null }) // accepted before: the re-send resumes
    } else if (row.state === 'complete' && !stillSaved(row.saved, row.savedIn ?? this.store.settings().downloads)) {
      // received before, and since deleted or moved away: the same files sent again are a new delivery, not "already done";
      // what the old one left (a partial directory it could not delete) must not be taken for a delivery begun
      if (row.partialDir != null) rmSync(row.partialDir, { recursive: true, force: true })
      this.store.update(id, { state: auto ? 'accepted' : 'pending', error: null, saved: [], savedIn: null, partialDir: null, senderName: name })
    }
    return this.store.get(id)! // told to front ends once its connection is registered (connected)
  }

  /**
   * Every offer is kept (its manifest may be 8 MiB) until the user answers:
   * a sender may not pile up more than a few, nor all senders together many.
   */
  private refuseIfTooManyWaiting (caller: Caller): void {
    const waiting = this.store.pendingCount(caller.userId)
    if (waiting.fromSender >= MAX_WAITING_OFFERS_PER_SENDER) throw new WireError('TOO_MANY_OFFERS', `${waiting.fromSender} of your offers already wait for an answer; send again once they are answered`)
    if (waiting.all >= MAX_WAITING_OFFERS) throw new WireError('TOO_MANY_OFFERS', `${waiting.all} offers already wait for an answer; send again later`)
  }

  private checkSpace (row: TransferRow, manifest: Manifest, have: number): void {
    const dir = row.partialDir ?? this.store.settings().downloads
    let free: number
    try {
      const s = statfsSync(existingParent(dir))
      free = s.bavail * s.bsize
    } catch { return }
    if (free < totalBytes(manifest) - have) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
  }

  private setState (id: string, state: TransferRow['state'], error?: string | null): void {
    this.store.update(id, { state, error })
    this.emit('transfer', this.store.get(id))
  }
}

function existingParent (dir: string): string {
  let d = dir
  for (let i = 0; i < 64; i++) {
    try { statfsSync(d); return d } catch { d = join(d, '..') }
  }
  return '/'
}

/** How a failure is told to the sender (never with local paths) and whether it is recorded for the user. */
function describe (err: unknown): { code: string, message: string, record: boolean, detail: string } {
  const e = err as NodeJS.ErrnoException & { code?: string }
  // `detail` is what the receiving user reads (`cspace transfers`); `message` goes to the sender
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return { code: 'DISK_FULL', message: 'the receiver\'s disk is full', record: true, detail: 'the downloads directory\'s disk is full; free space, and the sender\'s next try resumes' }
  if (err instanceof CspaceError) {
    // a connection that ended, or went quiet, mid-transfer is no failure of the transfer: it resumes
    const record = err instanceof TransferRejected || (err instanceof WireError && !['TRUNCATED', 'RECEIVER_BUSY', 'IDLE'].includes(err.code))
    return { code: err.code, message: err.message, record, detail: err.message }
  }
  // a file-system failure (it names a path) is the user's to see; a dropped connection is not a failure
  const local = e.path != null
  const why = e.code === 'EROFS' ? `the downloads directory is on a read-only file system (${e.path})`
    : e.code === 'EACCES' || e.code === 'EPERM' ? `no permission to write ${e.path}`
      : e.message
  return { code: 'RECEIVER_ERROR', message: 'the receiver could not store the files', record: local, detail: `cannot store the files: ${why}` }
}

/** True while everything a completed transfer saved is still where it was saved. */
function stillSaved (saved: string[], downloads: string): boolean {
  return saved.every(name => existsSync(join(downloads, name)))
}
