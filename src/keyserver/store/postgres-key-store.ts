import pg from 'pg'
import type { SignedOperation } from '../operation.js'
import { KeyHasName, NameConfusable, NameTaken, ReplayedNonce, StaleHead } from '../errors.js'
import { prefixEnd, SELECT_NAME, toStoredName, type KeyStore, type LogAppend, type NameRow, type StoredName } from './key-store.js'

const SCHEMA_VERSION = 1
// usernames compare byte by byte (COLLATE "C"), as in SQLite, so prefix ranges and pages agree
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS keyserver_schema (version INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS names (
    username TEXT COLLATE "C" PRIMARY KEY,
    skeleton TEXT NOT NULL,
    user_id TEXT,
    peer_id TEXT,
    fingerprint TEXT,
    display_name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    head TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS names_live_skeleton ON names (skeleton) WHERE user_id IS NOT NULL;
  CREATE UNIQUE INDEX IF NOT EXISTS names_live_peer ON names (peer_id) WHERE peer_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS names_fingerprint ON names (fingerprint) WHERE fingerprint IS NOT NULL;
  CREATE TABLE IF NOT EXISTS log (
    username TEXT COLLATE "C" NOT NULL,
    seq INTEGER NOT NULL,
    operation TEXT NOT NULL,
    hash TEXT NOT NULL,
    accepted_at BIGINT NOT NULL,
    PRIMARY KEY (username, seq)
  );
  CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at BIGINT NOT NULL);
  CREATE INDEX IF NOT EXISTS nonces_seen_at ON nonces (seen_at);`
// any 64-bit number, the same in every instance: serialises schema creation among them
const SCHEMA_LOCK = 0x6373_7061_6365

/**
 * The key server's PostgreSQL store: several stateless key server instances
 * can share it. Races between instances end in a unique-index violation that
 * append turns into the same typed error a single instance would give.
 */
export class PostgresKeyStore implements KeyStore {
  readonly kind = 'postgres'
  private readonly pool: pg.Pool

  private constructor (pool: pg.Pool) {
    this.pool = pool
  }

  static async open (url: string, maxConnections = 10): Promise<PostgresKeyStore> {
    // a server that accepts and never answers must not hold the start (or a request) for good
    const pool = new pg.Pool({ connectionString: url, max: maxConnections, connectionTimeoutMillis: 10_000 })
    pool.on('error', () => {}) // an idle client's error is reported on its next use
    const client = await pool.connect().catch(async (err: Error) => { await pool.end(); throw err })
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK])
      await client.query(SCHEMA)
      const { rows } = await client.query<{ version: number }>('SELECT version FROM keyserver_schema')
      if (rows.length === 0) await client.query('INSERT INTO keyserver_schema (version) VALUES ($1)', [SCHEMA_VERSION])
      else if (rows[0].version > SCHEMA_VERSION) throw new Error(`the database is from a newer key server (schema ${rows[0].version}); upgrade cspace`)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      client.release()
      await pool.end()
      throw err
    }
    client.release()
    return new PostgresKeyStore(pool)
  }

  async get (username: string): Promise<StoredName | undefined> {
    const { rows } = await this.pool.query<NameRow>(`${SELECT_NAME} WHERE n.username = $1`, [username])
    return rows.length > 0 ? toStoredName(rows[0]) : undefined
  }

  async nonceSeen (nonce: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM nonces WHERE nonce = $1', [nonce])
    return (rowCount ?? 0) > 0
  }

  async append (c: LogAppend): Promise<void> {
    const s = c.state
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      const current = await client.query<{ seq: number }>('SELECT seq FROM names WHERE username = $1 FOR UPDATE', [s.username])
      if ((current.rows[0]?.seq ?? 0) !== s.seq - 1) throw new StaleHead(s.username)
      await client.query('INSERT INTO nonces (nonce, seen_at) VALUES ($1, $2)', [c.operation.nonce, c.acceptedAt])
      await client.query(`INSERT INTO names (username, skeleton, user_id, peer_id, fingerprint, display_name, seq, head, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (username) DO UPDATE SET user_id = excluded.user_id, peer_id = excluded.peer_id, fingerprint = excluded.fingerprint,
          display_name = excluded.display_name, seq = excluded.seq, head = excluded.head, updated_at = excluded.updated_at`,
      [s.username, c.skeleton, s.key ?? null, c.peerId ?? null, c.fingerprint ?? null, s.displayName, s.seq, s.head, s.updatedAt])
      await client.query('INSERT INTO log (username, seq, operation, hash, accepted_at) VALUES ($1, $2, $3, $4, $5)',
        [s.username, s.seq - 1, JSON.stringify(c.operation), s.head, c.acceptedAt])
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw await this.violationError(err, c)
    } finally {
      client.release()
    }
  }

  /**
   * The unique indexes, not extra queries on every write, catch a confusable
   * name, a key's second name, a spent nonce and a concurrent writer; the
   * clashing name is looked up only then, for the message.
   */
  private async violationError (err: unknown, c: LogAppend): Promise<unknown> {
    const e = err as { code?: string, constraint?: string }
    if (e.code !== '23505') return err
    const other = async (sql: string, value: string | undefined): Promise<string> =>
      (await this.pool.query<{ username: string }>(sql, [value ?? ''])).rows[0]?.username ?? 'another name registered a moment ago'
    switch (e.constraint) {
      case 'nonces_pkey': return new ReplayedNonce()
      case 'names_live_skeleton': {
        const clash = await other('SELECT username FROM names WHERE skeleton = $1 AND user_id IS NOT NULL', c.skeleton)
        // another instance registered this very name a moment ago
        return clash === c.state.username ? new NameTaken(clash) : new NameConfusable(c.state.username, clash)
      }
      case 'names_live_peer': return new KeyHasName(await other('SELECT username FROM names WHERE peer_id = $1', c.peerId))
      default: return new StaleHead(c.state.username)
    }
  }

  async log (username: string, from: number, limit: number): Promise<SignedOperation[]> {
    const { rows } = await this.pool.query<{ operation: string }>('SELECT operation FROM log WHERE username = $1 AND seq >= $2 ORDER BY seq LIMIT $3', [username, from, limit])
    return rows.map(r => JSON.parse(r.operation) as SignedOperation)
  }

  async search (prefix: string, after: string, limit: number): Promise<StoredName[]> {
    const { rows } = await this.pool.query<NameRow>(`${SELECT_NAME} WHERE n.username >= $1 AND n.username < $2 AND n.username > $3 AND n.user_id IS NOT NULL ORDER BY n.username LIMIT $4`,
      [prefix, prefixEnd(prefix), after, limit])
    return rows.map(toStoredName)
  }

  async byFingerprint (fingerprint: string, limit: number): Promise<StoredName[]> {
    const { rows } = await this.pool.query<NameRow>(`${SELECT_NAME} WHERE n.fingerprint = $1 ORDER BY n.username LIMIT $2`, [fingerprint, limit])
    return rows.map(toStoredName)
  }

  async purgeNonces (before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM nonces WHERE seen_at < $1', [before])).rowCount ?? 0
  }

  async ping (): Promise<void> {
    await this.pool.query('SELECT 1')
  }

  async close (): Promise<void> {
    await this.pool.end()
  }
}
