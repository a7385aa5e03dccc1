import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { execWhileLocked } from '../util/sqlite-locked.js'
import { closeSync, openSync } from 'node:fs'
import { StoreCorrupt, StoreTooNew, StoreUnavailable, StoreUpgradeFailed } from './errors.js'
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js'
import { StatementCache } from '../util/statement-cache.js'

export { SCHEMA_VERSION }

/** Free pages past this after a migration are given back to the file system (VACUUM). */
const VACUUM_AFTER_MIGRATION_BYTES = 16 * 1024 * 1024

/**
 * SQLite primary result codes that say "cannot open right now", not "damaged";
 * everything else met while opening is treated as damage, and reported.
 */
const UNAVAILABLE_CODES = new Set([
  3, // PERM
  5, // BUSY
  6, // LOCKED
  7, // NOMEM
  8, // READONLY
  10, // IOERR: a full disk shows as this too; "corrupt" would tell the user to move an intact store away
  13, // FULL
  14, // CANTOPEN
  23 // AUTH
])

/**
 * The profile's SQLite database (node:sqlite). WAL with synchronous=FULL, so
 * a committed write survives a crash; several processes (daemon and CLI) may
 * open it at once. A damaged file is reported, never recreated.
 */
export class Store {
  readonly db: DatabaseSync
  readonly path: string
  private savepoints = 0
  private readonly statements: StatementCache
  private readonly migrations: readonly string[]

  private constructor (db: DatabaseSync, path: string, migrations: readonly string[]) {
    this.db = db
    this.path = path
    this.migrations = migrations
    this.statements = new StatementCache(db)
  }

  /**
   * Opens (creating, 0600) and migrates a database. `migrations` defaults to
   * the profile's own schema; an application's database passes its own list.
   */
  static open (path: string, migrations: readonly string[] = MIGRATIONS): Store {
    createPrivate(path)
    let db: DatabaseSync
    try {
      db = new DatabaseSync(path)
    } catch (err) {
      throw openError(path, err)
    }
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      // Reads every page's structure and the schema; a file that is not SQLite fails here.
      const check = db.prepare('PRAGMA quick_check').get() as { quick_check: string } | undefined
      if (check?.quick_check !== 'ok') throw new StoreCorrupt(path, firstLine(check?.quick_check ?? 'integrity check failed'))
      const store = new Store(db, path, migrations)
      store.refuseForeign() // before anything below writes to the file
      execWhileLocked(db, 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON')
      store.migrate()
      return store
    } catch (err) {
      db.close()
      throw openError(path, err)
    }
  }

  /** SQLite's data_version: it changes when another connection (the CLI, while the daemon runs) commits. */
  dataVersion (): number {
    return Number((this.prepare('PRAGMA data_version').get() as { data_version: number }).data_version)
  }

  /** A prepared statement, compiled once per SQL text (StatementCache). */
  prepare (sql: string): StatementSync {
    return this.statements.get(sql)
  }

  /**
   * Runs fn in one IMMEDIATE transaction: all of it is stored, or none. Inside
   * another transaction it becomes a savepoint, so layers can compose.
   */
  transaction<T> (fn: () => T): T {
    const nested = this.db.isTransaction
    const savepoint = `sp${++this.savepoints}`
    this.db.exec(nested ? `SAVEPOINT ${savepoint}` : 'BEGIN IMMEDIATE')
    try {
      const result = fn()
      if (isThenable(result)) throw new TypeError('Store.transaction needs a synchronous function')
      this.db.exec(nested ? `RELEASE ${savepoint}` : 'COMMIT')
      return result
    } catch (err) {
      // SQLite may already have rolled back on its own (e.g. SQLITE_FULL); don't mask err.
      if (this.db.isTransaction) {
        this.db.exec(nested ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK')
      }
      throw err
    }
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }

  private userVersion (): number {
    return (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  }

  /** Throws if the file is from a newer cspace or is some other program's SQLite database. */
  private refuseForeign (): void {
    const version = this.userVersion()
    if (version > this.migrations.length) throw new StoreTooNew(this.path, version, this.migrations.length)
    if (version === 0 && this.tableCount() > 0) {
      throw new StoreCorrupt(this.path, 'it holds tables but no cspace schema version, so it is not a cspace store')
    }
  }

  private migrate (): void {
    const target = this.migrations.length
    if (this.userVersion() === target) return // the common case takes no write lock
    let done = false
    while (!done) {
      // Re-check inside the write lock: another process may have migrated meanwhile.
      done = this.transaction(() => {
        this.refuseForeign()
        const version = this.userVersion()
        if (version === target) return true
        try {
          this.db.exec(this.migrations[version])
        } catch (err) {
          throw upgradeError(this.path, version, err)
        }
        this.db.exec(`PRAGMA user_version = ${version + 1}`)
        return false
      })
    }
    // A migration that rewrote large rows leaves a log as large as they were,
    // kept on disk for as long as the file is open, and the old rows' pages
    // free in the file; both are given back (a vacuum that another process
    // keeps from running is only space, and is left)
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    const { freelist_count: free } = this.db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }
    const { page_size: pageSize } = this.db.prepare('PRAGMA page_size').get() as { page_size: number }
    if (free * pageSize < VACUUM_AFTER_MIGRATION_BYTES) return
    try {
      this.db.exec('VACUUM')
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    } catch {}
  }

  private tableCount (): number {
    return (this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n
  }
}

export function openStore (path: string): Store {
  return Store.open(path)
}

/** Creates an empty file 0600 before SQLite touches it, so the data is never readable by others. */
function createPrivate (path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return
    throw new StoreUnavailable(path, (err as Error).message, { cause: err })
  }
}

/** A migration's failure: the file could not be written now (StoreUnavailable), or the migration does not apply to it. */
function upgradeError (path: string, version: number, err: unknown): Error {
  const e = err as { errcode?: unknown, message?: string }
  if (typeof e.errcode !== 'number' || UNAVAILABLE_CODES.has(e.errcode & 0xff)) return openError(path, err)
  return new StoreUpgradeFailed(path, version, version + 1, firstLine(e.message ?? String(err)), { cause: err })
}

/** Maps whatever failed while opening to StoreCorrupt or StoreUnavailable. */
function openError (path: string, err: unknown): Error {
  if (err instanceof StoreCorrupt || err instanceof StoreTooNew || err instanceof StoreUnavailable || err instanceof StoreUpgradeFailed) return err
  const e = err as { errcode?: unknown, message?: string }
  if (typeof e.errcode !== 'number') return err as Error // not from SQLite: a bug, not the file
  const why = firstLine(e.message ?? String(err))
  if (UNAVAILABLE_CODES.has(e.errcode & 0xff)) return new StoreUnavailable(path, why, { cause: err })
  return new StoreCorrupt(path, why, { cause: err })
}

function firstLine (text: string): string {
  return text.split('\n')[0]
}

function isThenable (value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
