import { existsSync, linkSync, mkdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs'
import { extname, join } from 'node:path'
import { MAX_PATH_BYTES } from './wire.js'

/** Names Windows reserves for devices, with or without an extension: harmless here, but not on a share or a USB stick. */
const DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)(\..*)?$/i
// control characters, and what Windows forbids in a name
const UNSAFE = /[\u0000-\u001f\u007f<>:"\\|?*]/g // eslint-disable-line no-control-regex
const MAX_COMPONENT_BYTES = 255

/**
 * Turns a path as a sender wrote it into a safe relative path under the
 * downloads directory, or null when nothing usable is left. Absolute paths
 * lose their root, `.` and `..` components are dropped (never followed),
 * NUL and control characters become `_`, device names get a `_` prefix,
 * trailing dots and spaces go (a name of nothing else becomes `_`s), and
 * each component is cut to 255 bytes.
 */
export function sanitizePath (raw: string): string | null {
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) return null
  // most names need nothing done; the work per component below took ~0.4 s
  // for a near-limit offer of deep paths (4 million components)
  if (!ANY_UNSAFE.test(raw) && everyComponentClean(raw)) return raw
  const parts: string[] = []
  for (let part of raw.split(/[/\\]/)) {
    if (part === '' || part === '.' || part === '..') continue
    const cleaned = withoutTrailingDotsAndSpaces(part.replace(UNSAFE, '_')).trimStart()
    // a name of dots and spaces alone (`...`, `.. `) is kept as one of underscores, not dropped:
    // dropped, its files would land in the directory above it
    part = cleaned !== '' ? cleaned : '_'.repeat(Math.min(part.length, MAX_COMPONENT_BYTES))
    if (DEVICE.test(part)) part = `_${part}`
    parts.push(truncateUtf8(part, MAX_COMPONENT_BYTES))
  }
  return parts.length === 0 ? null : parts.join('/')
}

/** Any of UNSAFE's characters (a backslash among them); without one, '/' alone separates the components. */
const ANY_UNSAFE = new RegExp(UNSAFE.source)
/** The first letters of DEVICE's names, lower case. */
const DEVICE_FIRST = new Set([0x61, 0x63, 0x6c, 0x6e, 0x70]) // a c l n p
/** Components this long (in UTF-16 units) are at most MAX_COMPONENT_BYTES in UTF-8 and need no cut. */
const SURELY_SHORT = Math.floor(MAX_COMPONENT_BYTES / 3)

/**
 * True when sanitizePath would leave every component of `raw` (a path
 * free of UNSAFE characters) as it is: not empty, `.` or `..`, no leading whitespace or trailing
 * dot or space, no device name, not long enough to need a cut. Scanned in
 * place, without a string per component.
 */
function everyComponentClean (raw: string): boolean {
  let start = 0
  for (;;) {
    let end = raw.indexOf('/', start)
    if (end === -1) end = raw.length
    const length = end - start
    if (length === 0 || length > SURELY_SHORT) return false
    const first = raw.charCodeAt(start)
    const last = raw.charCodeAt(end - 1)
    if (last === 0x2e || last === 0x20 || first === 0x20) return false // '.', ' '
    if (first > 0x7f && /\s/.test(raw[start])) return false // what trimStart removes
    if (DEVICE_FIRST.has(first | 0x20) && DEVICE.test(raw.slice(start, end))) return false
    if (end === raw.length) return true
    start = end + 1
  }
}

// Both in one pass over the name: a sender's offer holds up to 8 MiB of
// names, and a regular expression anchored at the end (/[. ]+$/), or
// measuring the growing prefix again for every character, took time in the
// square of a name's length (~0.7 ms for a 1000-byte name of dots).

function withoutTrailingDotsAndSpaces (s: string): string {
  let end = s.length
  while (end > 0 && (s[end - 1] === '.' || s[end - 1] === ' ')) end--
  return s.slice(0, end)
}

/** The longest prefix of whole characters that is at most `max` bytes in UTF-8 (a lone surrogate counts 3, as Buffer writes it). */
function truncateUtf8 (s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s
  let bytes = 0
  let end = 0
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
    if (bytes + n > max) break
    bytes += n
    end += ch.length
  }
  return s.slice(0, end)
}

/** `name (1).ext`, `name (2).ext`, … the n-th alternative to a taken name (n = 0: the name itself). */
export function numberedName (name: string, n: number): string {
  if (n === 0) return name
  const ext = extname(name)
  const stem = ext === '' || ext === name ? name : name.slice(0, -ext.length)
  return `${stem} (${n})${ext === name ? '' : ext}`
}

/**
 * Moves `from` (a file or a directory) into `dir` as `name`, or as
 * `name (1)`, `name (2)`, … when taken: never replaces anything. Files use
 * link() and directories mkdir(), both of which fail if the name exists, so
 * another program creating the same name at the same moment is not overwritten.
 * `beforeTry` hears each name before it is taken (delivery.ts's journal).
 * Returns the name used.
 */
export function moveWithoutOverwrite (from: string, dir: string, name: string, isDir: boolean, beforeTry: (candidate: string) => void = () => {}): string {
  for (let n = 0; n < 10_000; n++) {
    const candidate = numberedName(name, n)
    const to = join(dir, candidate)
    if (existsSync(to)) continue
    try {
      beforeTry(candidate)
      if (isDir) {
        mkdirSync(to) // reserves the name; rename() may then replace this empty directory
        try { renameSync(from, to) } catch (err) { rmdirSync(to); throw err }
      } else {
        linkSync(from, to)
        unlinkSync(from)
      }
      return candidate
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw err
    }
  }
  throw new Error(`no free name for ${name} in ${dir}`)
}
