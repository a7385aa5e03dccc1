import { closeSync, existsSync, lstatSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { moveWithoutOverwrite } from './names.js'

/**
 * Moving a finished transfer into the downloads directory so that a daemon
 * stopped part way (killed, crashed) finishes the same move at its next
 * start, instead of receiving the transfer again as `name (1)`.
 *
 * The files wait in `<partial dir>/tree/`, each top-level name moved out in
 * turn (moveWithoutOverwrite). Before each try, `moves.log` gets a line
 * `{"top", "candidate"}`, so the name a move may have taken is always on
 * record. Lines are written, not fsynced: this survives the process, not a
 * power cut (the renames themselves are not fsynced either).
 */

const JOURNAL = 'moves.log'

interface Move { top: string, candidate: string }

/** Moves each of `tops` (name, is a directory) from `dir/tree/` into `downloads`; returns the names used, in order. */
export function deliverTree (dir: string, downloads: string, tops: Array<[string, boolean]>): string[] {
  const fd = openSync(join(dir, JOURNAL), 'a', 0o600)
  try {
    return tops.map(([top, isDirectory]) => moveWithoutOverwrite(join(dir, 'tree', top), downloads, top, isDirectory, (candidate) => {
      // each record on a line of its own, even after one cut short (a full disk)
      writeSync(fd, '\n' + JSON.stringify({ top, candidate } satisfies Move) + '\n')
    }))
  } finally {
    closeSync(fd)
  }
}

/**
 * Finishes a delivery that `deliverTree` began in `dir` and did not end
 * (stopped, or failed part way): returns every name it delivered, or null if
 * none began there, or the directory is being removed (its tree is gone).
 */
export function finishDelivery (dir: string, downloads: string): string[] | null {
  const tree = join(dir, 'tree')
  if (!existsSync(tree)) return null
  let journal: string
  try { journal = readFileSync(join(dir, JOURNAL), 'utf8') } catch { return null }
  // the last name tried for each top-level name; a line cut short was written before its try began
  const tried = new Map<string, string>()
  for (const line of journal.split('\n')) {
    try {
      const m = JSON.parse(line) as Move
      if (typeof m.top === 'string' && typeof m.candidate === 'string') tried.set(m.top, m.candidate)
    } catch {}
  }
  const waiting = new Set(readdirSync(tree))
  const saved: string[] = []
  for (const [top, candidate] of tried) {
    if (!waiting.has(top)) saved.push(candidate) // it had moved
  }
  const rest: Array<[string, boolean]> = []
  for (const top of waiting) {
    const from = join(tree, top)
    const candidate = tried.get(top)
    if (candidate != null && completeMove(from, join(downloads, candidate))) saved.push(candidate)
    else rest.push([top, lstatSync(from).isDirectory()])
  }
  return [...saved, ...deliverTree(dir, downloads, rest)]
}

/** Completes a move stopped after its name was taken (a directory made, a file linked); false if it had not got that far. */
function completeMove (from: string, to: string): boolean {
  const taken = lstatSync(to, { throwIfNoEntry: false })
  if (taken == null) return false
  const moving = lstatSync(from)
  if (moving.isDirectory()) {
    // the empty directory that reserved the name: rename() replaces it
    if (!taken.isDirectory() || readdirSync(to).length > 0) return false
    renameSync(from, to)
    return true
  }
  // the link was made: only the old name is left to go
  if (taken.ino !== moving.ino || taken.dev !== moving.dev) return false
  unlinkSync(from)
  return true
}
