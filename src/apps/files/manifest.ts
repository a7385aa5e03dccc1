import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describeWireValue } from '../../util/wire-value.js'
import { SourceUnreadable, WireError } from './errors.js'
import { DEFAULT_CHUNK, MAX_CHUNK, MAX_CHUNKS, MAX_ENTRIES, MAX_FILE_SIZE, MIN_CHUNK, WIRE_VERSION } from './wire.js'
import { sanitizePath } from './names.js'

export interface ManifestFile { path: string, size: number, mtime: number }
export interface Manifest { v: number, chunkSize: number, files: ManifestFile[] }
/** A manifest entry on the sender's side: where to read it. */
export interface SourceFile extends ManifestFile { source: string }

export function chunkCount (size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

export function totalBytes (m: Manifest): number {
  return m.files.reduce((n, f) => n + f.size, 0)
}

/**
 * The transfer's ID: the sender's user ID and the manifest (paths, sizes,
 * modification times, chunk size). The same command re-run with unchanged
 * files gives the same ID, which is how a new run resumes an old transfer;
 * the receiver computes it, so a sender cannot pick another sender's ID.
 */
export function transferId (senderUserId: string, m: Manifest): string {
  const canonical = JSON.stringify({ v: m.v, chunkSize: m.chunkSize, files: m.files.map(f => [f.path, f.size, f.mtime]) })
  return createHash('sha256').update(senderUserId.toLowerCase()).update('\0').update(canonical).digest('hex').slice(0, 16)
}

/**
 * Files and directory trees to send, each under its own base name; symbolic
 * links inside a tree are skipped (following them could send what is outside it).
 */
/** A manifest and where each of its files is read from. */
export interface BuiltManifest { manifest: Manifest, sources: SourceFile[] }

export function buildManifest (paths: string[], chunkSize = DEFAULT_CHUNK): BuiltManifest {
  const sources: SourceFile[] = []
  const seen = new Map<string, string>()
  const add = (source: string, rel: string): void => {
    let st
    try { st = lstatSync(source) } catch (err) { throw SourceUnreadable.from(source, err) }
    if (st.isDirectory()) {
      let names: string[]
      try { names = readdirSync(source).sort() } catch (err) { throw SourceUnreadable.from(source, err) }
      for (const n of names) add(join(source, n), `${rel}/${n}`)
    } else if (st.isFile()) {
      // sent under the name the receiver will save it as (a ':' in a Linux
      // name becomes '_', as on any system that forbids it)
      const path = sanitizePath(rel)
      if (path == null) throw new SourceUnreadable(source, 'its name cannot be used on the receiving side; rename it')
      // as the receiver compares them: names differing only in case are one on many file systems
      const key = path.toLowerCase()
      const other = seen.get(key)
      if (other != null) throw new SourceUnreadable(source, other === path ? `two files would both be saved as ${path}; rename one` : `${other} and ${path} differ only in case, and would be one file on many systems; rename one`)
      seen.set(key, path)
      sources.push({ source, path, size: st.size, mtime: Math.floor(st.mtimeMs) })
      if (sources.length > MAX_ENTRIES) throw new SourceUnreadable(source, `more than ${MAX_ENTRIES} files; send them in parts or as an archive`)
    }
  }
  for (const p of paths) {
    let st
    try { st = statSync(p) } catch (err) { throw SourceUnreadable.from(p, err) }
    if (!st.isDirectory() && !st.isFile()) throw new SourceUnreadable(p, 'it is not a file or a directory')
    // a link named on the command line is followed (inside a tree, links are skipped); a
    // file keeps the name it was given, a directory its own (for `.` or `..`)
    const real = realpathSync(p)
    add(real, basename(st.isDirectory() ? real : p))
  }
  if (sources.length === 0) throw new SourceUnreadable(paths.join(' '), 'there are no files in it')
  // what the receiver will check too (a file `Docs` beside a directory `docs/`): refused here, in the sender's words, not as the receiver's refusal
  const dir = fileUsedAsDirectory(sources.map(f => f.path))
  if (dir != null) throw new SourceUnreadable(paths.join(' '), `${dir} would be both a file and a directory (names differing only in case are one on many systems); rename one`)
  if (sources.reduce((n, f) => n + chunkCount(f.size, chunkSize), 0) > MAX_CHUNKS) throw new SourceUnreadable(paths.join(' '), `more than ${MAX_CHUNKS * chunkSize / 2 ** 30} GiB at once; send it in parts`)
  return { manifest: { v: WIRE_VERSION, chunkSize, files: sources.map(({ path, size, mtime }) => ({ path, size, mtime })) }, sources }
}

/** Checks an OFFER from the network: shape, version, every length and count; returns it with sanitised paths. */
export function parseOffer (body: Record<string, unknown>): Manifest {
  const bad = (why: string): WireError => new WireError('BAD_MANIFEST', `bad offer: ${why}`)
  if (body.v !== WIRE_VERSION) throw new WireError('UNSUPPORTED_VERSION', `offer version ${describeWireValue(body.v)} is not supported (this receiver speaks ${WIRE_VERSION}); update cspace`)
  const cs = body.chunkSize
  if (typeof cs !== 'number' || !Number.isInteger(cs) || cs < MIN_CHUNK || cs > MAX_CHUNK) throw bad('chunk size out of range')
  if (!Array.isArray(body.files) || body.files.length === 0 || body.files.length > MAX_ENTRIES) throw bad(`1 to ${MAX_ENTRIES} files expected`)
  const files: ManifestFile[] = []
  const paths = new Set<string>()
  let chunks = 0
  for (const f of body.files as unknown[]) {
    if (typeof f !== 'object' || f === null) throw bad('a file entry is not an object')
    const { path, size, mtime } = f as Record<string, unknown>
    if (typeof path !== 'string') throw bad('a path is not a string')
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_FILE_SIZE) throw bad('a size is out of range')
    if (typeof mtime !== 'number' || !Number.isSafeInteger(mtime) || mtime < 0) throw bad('a modification time is out of range')
    chunks += chunkCount(size, cs)
    if (chunks > MAX_CHUNKS) throw bad(`more than ${MAX_CHUNKS} chunks in all (${MAX_CHUNKS * cs / 2 ** 30} GiB in chunks of ${cs / 1024} KiB); send fewer files at once`)
    const safe = sanitizePath(path)
    if (safe == null) throw bad(`${JSON.stringify(path.slice(0, 80))} is not a usable file name`)
    // the same path twice, or one file's path a directory of another's
    const key = safe.toLowerCase()
    if (paths.has(key)) throw bad(`two files are both called ${JSON.stringify(safe)}`)
    paths.add(key)
    files.push({ path: safe, size, mtime })
  }
  const dir = fileUsedAsDirectory(files.map(f => f.path))
  if (dir != null) throw bad(`${JSON.stringify(dir)} is both a file and a directory`)
  return { v: WIRE_VERSION, chunkSize: cs, files }
}

/**
 * A path that is a file and also a directory of another path (`d` and
 * `d/e`, case-insensitively), or undefined. Sorted, the paths under `d/`
 * are one run, found by a binary search per path: no object per component.
 * (A tree of components, as before, took 4 s and 1 GiB for one near-limit
 * offer of 8,000 paths 490 deep that differ in their first component; an
 * offer is read before anyone accepts it.)
 */
function fileUsedAsDirectory (paths: string[]): string | undefined {
  const sorted = paths.map(p => p.toLowerCase()).sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
  for (const p of sorted) {
    const dir = p + '/'
    let lo = 0
    let hi = sorted.length
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] < dir) lo = mid + 1; else hi = mid }
    if (lo < sorted.length && sorted[lo].startsWith(dir)) return p
  }
  return undefined
}
