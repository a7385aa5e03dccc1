import type { DatabaseSync } from 'node:sqlite'

/**
 * Runs `sql`, retrying for up to `timeoutMs` while another process holds the
 * lock it needs. Why: SQLite's busy timeout does not cover every lock —
 * switching a new file to WAL (`PRAGMA journal_mode = WAL`) fails at once
 * with "database is locked" while another connection is switching it too,
 * which two processes opening one new database at the same moment hit in
 * 9 of 30 tries. Blocks the thread between tries: only for opening a store.
 */
export function execWhileLocked (db: DatabaseSync, sql: string, timeoutMs = 5000): void {
  const deadline = Date.now() + timeoutMs
  for (let waitMs = 5; ; waitMs = Math.min(waitMs * 2, 100)) {
    try {
      db.exec(sql)
      return
    } catch (err) {
      const locked = /database is locked|SQLITE_BUSY/i.test((err as Error).message)
      if (!locked || Date.now() + waitMs > deadline) throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, waitMs)
    }
  }
}
