import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { execWhileLocked } from '../../util/sqlite-locked.js'
import { StatementCache } from '../../util/statement-cache.js'
import { closeSync, openSync } from 'node:fs'
import type { SignedOperation } from '../operation.js'
import { KeyHasName, NameConfusable, ReplayedNonce, StaleHead } from '../errors.js'
import { prefixEnd, SELECT_NAME, toStoredName, type KeyStore, type LogAppend, type NameRow, type StoredName } from './key-store.js'

const SCHEMA_VERSION = 1
/** 'csks' in the file header: this file is a key server's, not a profile's or another program's. */
const APPLICATION_ID = 0x6373_6b73
const SCHEMA = `
  CREATE TABLE names (
    username TEXT PRIMARY KEY,
    skeleton TEXT NOT NULL,
    user_id TEXT,
    peer_id TEXT,
    fingerprint TEXT,
    display_name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    head TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX names_live_skeleton ON names (skeleton) WHERE user_id IS NOT NULL;
  CREATE UNIQUE INDEX names_live_peer ON names (peer_id) WHERE peer_id IS NOT NULL;
  CREATE INDEX names_fingerprint ON names (fingerprint) WHERE fingerprint IS NOT NULL;
  CREATE TABLE log (
    username TEXT NOT NULL,
    seq INTEGER NOT NULL,
    operation TEXT NOT NULL,
    hash TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    PRIMARY KEY (username, seq)
  );
  CREATE TABLE nonces (
    nonce TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
  );
  CREATE INDEX nonces_seen_at ON nonces (seen_at);`

/** The key server's SQLite store (node:sqlite): one file, WAL, every accepted write durable before the reply. */
export class SqliteKeyStore implements KeyStore {
  readonly kind = 'sqlite'
  private readonly db: DatabaseSync
  private readonly statements: StatementCache

  constructor (path: string) {
    if (path !== ':memory:') closeSync(openSync(path, 'a', 0o600)) // created private before SQLite writes to it
    this.db = new DatabaseSync(path)
    this.db.exec('PRAGMA busy_timeout = 5000')
    execWhileLocked(this.db, 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL')
    // inside the write lock, so that two instances starting on a new file create the schema once
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const version = (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
      const app = (this.db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id
      const tables = (this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n
      if (app !== APPLICATION_ID && (version !== 0 || tables > 0)) throw new Error(`${path} is not a cspace key server database; give --db a new or key server file`)
      if (version > SCHEMA_VERSION) throw new Error(`${path} is from a newer key server (schema ${version}); upgrade cspace`)
      if (version === 0) this.db.exec(SCHEMA + `; PRAGMA user_version = ${SCHEMA_VERSION}; PRAGMA application_id = ${APPLICATION_ID}`)
      this.db.exec('COMMIT')
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      this.db.close()
      throw err
    }
    this.statements = new StatementCache(this.db)
  }

  private prepare (sql: string): StatementSync {
    return this.statements.get(sql)
  }

  async get (username: string): Promise<StoredName | undefined> {
    const row = this.prepare(`${SELECT_NAME} WHERE n.username = ?`).get(username) as NameRow | undefined
    return row != null ? toStoredName(row) : undefined
  }

  async nonceSeen (nonce: string): Promise<boolean> {
    return this.hasNonce(nonce)
  }

  /** Synchronous, for use inside append's transaction (an await there would let another append in). */
  private hasNonce (nonce: string): boolean {
    return this.prepare('SELECT 1 FROM nonces WHERE nonce = ?').get(nonce) != null
  }

  async append (c: LogAppend): Promise<void> {
    const s = c.state
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const current = this.prepare('SELECT seq FROM names WHERE username = ?').get(s.username) as { seq: number } | undefined
      if ((current?.seq ?? 0) !== s.seq - 1) throw new StaleHead(s.username)
      if (this.hasNonce(c.operation.nonce)) throw new ReplayedNonce()
      if (s.key != null) {
        const clash = this.prepare('SELECT username FROM names WHERE skeleton = ? AND user_id IS NOT NULL AND username <> ?').get(c.skeleton, s.username) as { username: string } | undefined
        if (clash != null) throw new NameConfusable(s.username, clash.username)
        const holder = this.prepare('SELECT username FROM names WHERE peer_id = ? AND username <> ?').get(c.peerId ?? '', s.username) as { username: string } | undefined
        if (holder != null) throw new KeyHasName(holder.username)
      }
      this.prepare(`INSERT INTO names (username, skeleton, user_id, peer_id, fingerprint, display_name, seq, head, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (username) DO UPDATE SET user_id = excluded.user_id, peer_id = excluded.peer_id, fingerprint = excluded.fingerprint,
          display_name = excluded.display_name, seq = excluded.seq, head = excluded.head, updated_at = excluded.updated_at`)
        .run(s.username, c.skeleton, s.key ?? null, c.peerId ?? null, c.fingerprint ?? null, s.displayName, s.seq, s.head, s.updatedAt)
      this.prepare('INSERT INTO log (username, seq, operation, hash, accepted_at) VALUES (?, ?, ?, ?, ?)')
        .run(s.username, s.seq - 1, JSON.stringify(c.operation), s.head, c.acceptedAt)
      this.prepare('INSERT INTO nonces (nonce, seen_at) VALUES (?, ?)').run(c.operation.nonce, c.acceptedAt)
      this.db.exec('COMMIT')
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }

  async log (username: string, from: number, limit: number): Promise<SignedOperation[]> {
    const rows = this.prepare('SELECT operation FROM log WHERE username = ? AND seq >= ? ORDER BY seq LIMIT ?').all(username, from, limit) as Array<{ operation: string }>
    return rows.map(r => JSON.parse(r.operation) as SignedOperation)
  }

  async search (prefix: string, after: string, limit: number): Promise<StoredName[]> {
    const rows = this.prepare(`${SELECT_NAME} WHERE n.username >= ? AND n.username < ? AND n.username > ? AND n.user_id IS NOT NULL ORDER BY n.username LIMIT ?`)
      .all(prefix, prefixEnd(prefix), after, limit) as unknown as NameRow[]
    return rows.map(toStoredName)
  }

  async byFingerprint (fingerprint: string, limit: number): Promise<StoredName[]> {
    const rows = this.prepare(`${SELECT_NAME} WHERE n.fingerprint = ? ORDER BY n.username LIMIT ?`).all(fingerprint, limit) as unknown as NameRow[]
    return rows.map(toStoredName)
  }

  async purgeNonces (before: number): Promise<number> {
    return Number(this.prepare('DELETE FROM nonces WHERE seen_at < ?').run(before).changes)
  }

  async ping (): Promise<void> {
    this.prepare('SELECT 1').get()
  }

  async close (): Promise<void> {
    if (this.db.isOpen) this.db.close()
  }
}
