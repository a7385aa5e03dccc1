import { createHash } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync, constants, utimesSync, existsSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { chunkCount, type Manifest } from './manifest.js'
import { deliverTree } from './delivery.js'
import { TransferRejected } from './errors.js'
import { chunkIo } from './chunk-io.js'

const RECORD = 40 // [file u32][chunk u32][sha256 32]
/** Linux's flag; undefined elsewhere, and then every chunk is written through the page cache. */
const O_DIRECT: number | undefined = (constants as Record<string, number>).O_DIRECT

export function chunkLength (m: Manifest, file: number, chunk: number): number {
  return Math.min(m.chunkSize, m.files[file].size - chunk * m.chunkSize)
}

/** The SHA-256 of a file: over its chunks' SHA-256s in order (each byte is hashed once, and every chunk was checked against its own). */
export function fileDigest (chunkHashes: Buffer): string {
  return createHash('sha256').update(chunkHashes).digest('hex')
}

/** Where transfer `id`'s data waits while it arrives: beside the downloads, so the final move is a rename. */
export function partialDirFor (downloads: string, id: string): string {
  return join(downloads, '.cspace-partial', id)
}

/** The downloads directory a partial directory (partialDirFor) is in: where its transfer is delivered. */
export function downloadsOf (partialDir: string): string {
  return dirname(dirname(partialDir))
}

/**
 * A transfer's data while it arrives: `<downloads>/.cspace-partial/<id>/`,
 * one `<index>.part` file per manifest entry (chunks written at their
 * offsets) and `chunks.log`, a record per chunk written. Nothing is fsynced
 * per chunk: after a crash, `open` re-hashes every logged chunk and keeps
 * only those that still match, so a lost write costs that chunk, never a
 * corrupt file. Being beside the downloads makes the final move a rename.
 */
export class PartialTransfer {
  private readonly present: Uint8Array[]
  private readonly hashes: Buffer[]
  private readonly handles = new Map<number, FileHandle>()
  private readonly opening = new Map<number, Promise<FileHandle>>()
  /** Each part file opened again with O_DIRECT for aligned chunks (chunk-worker.ts), or null where the file system has no O_DIRECT. */
  private readonly direct = new Map<number, Promise<FileHandle | null>>()
  /** Chunks being written now ("file:chunk"): writes run concurrently, and a second copy of one in flight is a re-send. */
  private readonly writing = new Set<string>()
  private logFd: number
  /** Whole records in the log file: what `resume` expects to find there. */
  private logRecords = 0
  private bytes = 0
  /** About what keeping this instance costs in memory: its chunks' state (33 bytes each) and its manifest. */
  readonly heldBytes: number

  private constructor (readonly dir: string, readonly manifest: Manifest) {
    this.present = manifest.files.map(f => new Uint8Array(chunkCount(f.size, manifest.chunkSize)))
    this.hashes = manifest.files.map(f => Buffer.alloc(chunkCount(f.size, manifest.chunkSize) * 32))
    this.logFd = -1
    this.heldBytes = this.present.reduce((n, bits) => n + 33 * bits.length, 0) + manifest.files.reduce((n, f) => n + 2 * f.path.length + 100, 0)
  }

  static async open (dir: string, manifest: Manifest): Promise<PartialTransfer> {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      // Node's recursive mkdir says ENOENT for what is EROFS or EACCES; one level at a time gives the real reason
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      try { mkdirSync(dirname(dir), { mode: 0o700 }) } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e }
      mkdirSync(dir, { mode: 0o700 })
    }
    const p = new PartialTransfer(dir, manifest)
    await p.recover()
    return p
  }

  /**
   * Carries on after `close`, in the same process, without `open`'s re-read:
   * every chunk it holds was checked as it arrived, and no other instance has
   * written since (kept-partials.ts). False if its directory has gone.
   */
  resume (): boolean {
    if (this.logFd >= 0) return true
    const logPath = join(this.dir, 'chunks.log')
    // gone, or not the records written (a write cut short by a full disk): then read it all again
    if ((statSync(logPath, { throwIfNoEntry: false })?.size ?? -1) !== this.logRecords * RECORD) return false
    // a part file deleted or cut short meanwhile (by hand): the same
    for (const [f, bits] of this.present.entries()) {
      const last = bits.lastIndexOf(1)
      if (last < 0) continue
      const end = last * this.manifest.chunkSize + chunkLength(this.manifest, f, last)
      if ((statSync(this.partPath(f), { throwIfNoEntry: false })?.size ?? -1) < end) return false
    }
    this.logFd = openSync(logPath, 'a', 0o600)
    return true
  }

  /** Bytes held and verified. */
  get receivedBytes (): number {
    return this.bytes
  }

  /** What the sender may skip: [file, first chunk, last chunk + 1] runs. */
  haveRanges (): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = []
    this.present.forEach((bits, f) => {
      let start = -1
      for (let c = 0; c <= bits.length; c++) {
        if (c < bits.length && bits[c] === 1) { if (start < 0) start = c } else if (start >= 0) { out.push([f, start, c]); start = -1 }
      }
    })
    return out
  }

  /**
   * Checks and stores one chunk; false if it was already held (a re-send).
   * `give`: `bytes` is from chunkIo.buffer() and moves to the chunk worker
   * (see ChunkIo.verifyAndWrite); whether or not it is written, its memory
   * is taken.
   */
  async writeChunk (file: number, chunk: number, bytes: Buffer, hashView: Buffer, give = false): Promise<boolean> {
    const hash = Buffer.from(hashView) // it may be a view of `bytes`' memory, which moves away
    const m = this.manifest
    if (file >= m.files.length || chunk >= this.present[file].length) throw new TransferRejected('BAD_CHUNK', `chunk ${file}/${chunk} is not in the manifest`)
    if (bytes.length !== chunkLength(m, file, chunk)) throw new TransferRejected('BAD_CHUNK', `chunk ${file}/${chunk} has ${bytes.length} bytes, expected ${chunkLength(m, file, chunk)}`)
    const key = `${file}:${chunk}`
    if (this.present[file][chunk] === 1 || this.writing.has(key)) return false
    this.writing.add(key)
    try {
      const fh = await this.handle(file)
      const direct = await this.directHandle(file)
      // hashed and written off the event loop; a chunk that does not match is not written
      if (!await chunkIo.verifyAndWrite(fh.fd, chunk * m.chunkSize, bytes, hash, give, direct?.fd)) {
        throw new TransferRejected('CHUNK_CORRUPT', `chunk ${chunk} of ${m.files[file].path} does not match its SHA-256; it was not stored`)
      }
    } finally {
      this.writing.delete(key)
    }
    if (this.logFd < 0) return false // closed meanwhile (the connection ended); the chunk is not recorded
    const rec = Buffer.allocUnsafe(RECORD)
    rec.writeUInt32BE(file, 0)
    rec.writeUInt32BE(chunk, 4)
    hash.copy(rec, 8)
    if (writeSync(this.logFd, rec) === RECORD) this.logRecords++ // a short write fails the next resume's check
    hash.copy(this.hashes[file], chunk * 32)
    this.present[file][chunk] = 1
    this.bytes += chunkLength(m, file, chunk) // not bytes.length: given bytes are gone by now
    return true
  }

  /** 'ok' when every chunk is held and the file's digest matches; on a mismatch the file's chunks are dropped so a re-send starts it over. */
  async finishFile (file: number, digest: string): Promise<'ok' | 'incomplete' | 'mismatch'> {
    if (this.present[file].includes(0)) return 'incomplete'
    if (fileDigest(this.hashes[file]) === digest) return 'ok'
    await this.closeFile(file)
    rmSync(this.partPath(file), { force: true })
    this.bytes -= this.manifest.files[file].size
    this.present[file].fill(0)
    this.rewriteLog()
    return 'mismatch'
  }

  /**
   * Moves the verified files into `downloads`: the tree is assembled inside
   * the partial directory, then each top-level name is moved, renamed
   * `name (1)` if taken (delivery.ts). Returns the names used; the partial
   * directory is the caller's to delete once it has recorded them. Null,
   * with nothing moved, if the transfer is no longer `wanted` once the files
   * are ready (declined or removed meanwhile).
   */
  async finalize (downloads: string, wanted: () => boolean): Promise<string[] | null> {
    const tree = join(this.dir, 'tree')
    mkdirSync(tree, { recursive: true })
    for (const [f, entry] of this.manifest.files.entries()) {
      const part = this.partPath(f)
      // the O_DIRECT writes are on the disk already; this flushes the rest and the metadata
      await this.handles.get(f)?.sync()
      await this.closeFile(f)
      if (!existsSync(part)) closeSync(openSync(part, 'w', 0o600)) // an empty file has no chunks
      const to = join(tree, entry.path)
      mkdirSync(dirname(to), { recursive: true })
      renameSync(part, to)
      utimesSync(to, new Date(), new Date(entry.mtime))
    }
    // each top-level name, and whether it is a directory: one pass (asking every path for
    // every name took 20 s for an offer of 50,000 files side by side)
    const tops = new Map<string, boolean>()
    for (const f of this.manifest.files) {
      const slash = f.path.indexOf('/')
      const top = slash < 0 ? f.path : f.path.slice(0, slash)
      tops.set(top, (tops.get(top) ?? false) || slash >= 0)
    }
    await this.close()
    // from here to the caller recording it, nothing waits: no decline can come in between
    if (!wanted()) return null
    mkdirSync(downloads, { recursive: true })
    return deliverTree(this.dir, downloads, [...tops])
  }

  async close (): Promise<void> {
    for (const f of new Set([...this.handles.keys(), ...this.opening.keys(), ...this.direct.keys()])) await this.closeFile(f).catch(() => {})
    if (this.logFd >= 0) { closeSync(this.logFd); this.logFd = -1 }
  }

  private partPath (file: number): string {
    return join(this.dir, `${file}.part`)
  }

  private async handle (file: number): Promise<FileHandle> {
    const fh = this.handles.get(file)
    if (fh != null) return fh
    let opening = this.opening.get(file)
    if (opening == null) {
      opening = open(this.partPath(file), constants.O_RDWR | constants.O_CREAT, 0o600)
      this.opening.set(file, opening)
      opening.then((h) => { this.handles.set(file, h); this.opening.delete(file) }, () => this.opening.delete(file))
    }
    return await opening
  }

  /** The part file opened with O_DIRECT (after `handle` created it); null where that is not supported. */
  private async directHandle (file: number): Promise<FileHandle | null> {
    let direct = this.direct.get(file)
    if (direct == null) {
      direct = O_DIRECT == null ? Promise.resolve(null) : open(this.partPath(file), constants.O_WRONLY | O_DIRECT).catch(() => null)
      this.direct.set(file, direct)
    }
    return await direct
  }

  private async closeFile (file: number): Promise<void> {
    // one still opening would be left to the garbage collector to close
    await this.opening.get(file)?.catch(() => {})
    const fh = this.handles.get(file)
    const direct = this.direct.get(file)
    this.handles.delete(file)
    this.direct.delete(file)
    await fh?.close()
    await (await direct)?.close()
  }

  /** Re-reads the log and keeps the chunks whose bytes on disk still match their hash. */
  private async recover (): Promise<void> {
    const logPath = join(this.dir, 'chunks.log')
    let log = Buffer.alloc(0)
    try { log = readFileSync(logPath) } catch {}
    const m = this.manifest
    for (let off = 0; off + RECORD <= log.length; off += RECORD) {
      const file = log.readUInt32BE(off)
      const chunk = log.readUInt32BE(off + 4)
      const hash = log.subarray(off + 8, off + RECORD)
      if (file >= m.files.length || chunk >= this.present[file].length || this.present[file][chunk] === 1) continue
      const len = chunkLength(m, file, chunk)
      const buf = Buffer.alloc(len)
      let read = 0
      try {
        const fh = await this.handle(file)
        read = (await fh.read(buf, 0, len, chunk * m.chunkSize)).bytesRead
      } catch { continue }
      if (read !== len || !createHash('sha256').update(buf).digest().equals(hash)) continue
      hash.copy(this.hashes[file], chunk * 32)
      this.present[file][chunk] = 1
      this.bytes += len
    }
    this.rewriteLog()
  }

  /** Replaces the log with the chunks held now (atomically: a crash leaves the old or the new one). */
  private rewriteLog (): void {
    if (this.logFd >= 0) closeSync(this.logFd)
    const recs: Buffer[] = []
    this.present.forEach((bits, f) => bits.forEach((b, c) => {
      if (b !== 1) return
      const rec = Buffer.allocUnsafe(RECORD)
      rec.writeUInt32BE(f, 0)
      rec.writeUInt32BE(c, 4)
      this.hashes[f].copy(rec, 8, c * 32, c * 32 + 32)
      recs.push(rec)
    }))
    const logPath = join(this.dir, 'chunks.log')
    writeFileSync(`${logPath}.new`, Buffer.concat(recs), { mode: 0o600 })
    const fd = openSync(`${logPath}.new`, 'r')
    fsyncSync(fd)
    closeSync(fd)
    renameSync(`${logPath}.new`, logPath)
    this.logFd = openSync(logPath, 'a', 0o600)
    this.logRecords = recs.length
  }
}
