import { DatabaseSync } from 'node:sqlite'
import { closeSync, existsSync, openSync } from 'node:fs'
import { StoreCorrupt, StoreTooNew } from './errors.js'

/** Schema migrations; index i brings the database from version i to i + 1. */
const MIGRATIONS: string[] = [
  `CREATE TABLE contacts (
     name TEXT NOT NULL,
     name_key TEXT NOT NULL UNIQUE,
     user_id TEXT NOT NULL,
     peer_id TEXT NOT NULL UNIQUE,
     verified INTEGER NOT NULL DEFAULT 0,
     added_at INTEGER NOT NULL
   );
   CREATE TABLE exposes (
     service TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('tcp', 'exec')),
     target TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE forwards (
     port INTEGER PRIMARY KEY,
     contact TEXT NOT NULL,
     service TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE rules (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     position INTEGER NOT NULL,
     action TEXT NOT NULL,
     who TEXT NOT NULL,
     service TEXT NOT NULL
   );
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`
]

export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * The profile's SQLite database (node:sqlite). WAL with synchronous=FULL, so
 * a committed write survives a crash; several processes (daemon and CLI) may
 * open it at once. A damaged file is reported, never recreated.
 */
export class Store {
  readonly db: DatabaseSync
  readonly path: string

  private constructor (db: DatabaseSync, path: string) {
    this.db = db
    this.path = path
  }

  static open (path: string): Store {
    if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600)) // created 0600 before SQLite touches it
    let db: DatabaseSync
    try {
      db = new DatabaseSync(path)
    } catch (err) {
      throw new StoreCorrupt(path, (err as Error).message)
    }
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      const check = db.prepare('PRAGMA quick_check').get() as { quick_check: string } | undefined
      if (check?.quick_check !== 'ok') throw new Error(check?.quick_check ?? 'integrity check failed')
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON')
    } catch (err) {
      db.close()
      throw new StoreCorrupt(path, (err as Error).message)
    }
    const store = new Store(db, path)
    store.migrate()
    return store
  }

  /** Runs fn in one IMMEDIATE transaction: all of it is stored, or none. */
  transaction<T> (fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    }
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }

  private migrate (): void {
    const version = (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
    if (version > SCHEMA_VERSION) {
      this.close()
      throw new StoreTooNew(this.path, version, SCHEMA_VERSION)
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[v])
        this.db.exec(`PRAGMA user_version = ${v + 1}`)
      })
    }
  }
}

export function openStore (path: string): Store {
  return Store.open(path)
}
