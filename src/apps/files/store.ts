import { homedir } from 'node:os'
import { join } from 'node:path'
import { openAppStore, type AppStore } from '../../sdk/index.js'
import type { Manifest } from './manifest.js'

/**
 * A transfer's first file paths kept beside its manifest, for listings: an
 * offer's manifest may be 8 MiB (wire.ts), and reading one back took 52-78
 * ms, while a listing shows the first paths only.
 */
export const LISTED_PATHS = 1000

export const FILES_STORE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE transfers (
     id TEXT PRIMARY KEY,
     sender_user_id TEXT NOT NULL,
     sender_name TEXT,
     manifest TEXT NOT NULL,
     total_bytes INTEGER NOT NULL,
     file_count INTEGER NOT NULL,
     state TEXT NOT NULL,
     error TEXT,
     partial_dir TEXT,
     saved TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // The manifests move to a table of their own, and a transfer's row keeps
  // what listings show: a row read walked the manifest's overflow pages to
  // reach the columns after it (4.3 ms for an 8.6 MiB one). The rows are
  // built anew, each written once (altering the table in place rewrote each
  // with its manifest twice, tripling the file); those already kept get
  // their chunk size and first 1000 text paths from the manifest, none from
  // one that is not JSON. (1000 written out: a migration must not change
  // with LISTED_PATHS.)
  `CREATE TABLE offers (id TEXT PRIMARY KEY, manifest TEXT NOT NULL);
   INSERT INTO offers (id, manifest) SELECT id, manifest FROM transfers;
   CREATE TABLE listed_transfers (
     id TEXT PRIMARY KEY,
     sender_user_id TEXT NOT NULL,
     sender_name TEXT,
     chunk_size INTEGER NOT NULL,
     first_paths TEXT NOT NULL,
     total_bytes INTEGER NOT NULL,
     file_count INTEGER NOT NULL,
     state TEXT NOT NULL,
     error TEXT,
     partial_dir TEXT,
     saved TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   INSERT INTO listed_transfers
     SELECT id, sender_user_id, sender_name,
       CASE WHEN json_valid(manifest) THEN COALESCE(json_extract(manifest, '$.chunkSize'), 0) ELSE 0 END,
       -- each JSON function is given JSON: not a manifest that is not, nor an entry that is not an object
       (SELECT json_group_array(p) FROM (
         SELECT json_extract(f.value, '$.path') AS p
         FROM json_each(CASE WHEN json_valid(manifest) THEN manifest ELSE '{}' END, '$.files') AS f
         WHERE f.key < 1000 AND CASE WHEN f.type = 'object' THEN json_type(f.value, '$.path') END = 'text'
         ORDER BY f.key)),
       total_bytes, file_count, state, error, partial_dir, saved, created_at, updated_at
     FROM transfers;
   DROP TABLE transfers;
   ALTER TABLE listed_transfers RENAME TO transfers;`,
  // the directory a complete transfer was saved in (the downloads directory of the time): those kept before say nothing
  'ALTER TABLE transfers ADD COLUMN saved_in TEXT;'
]

/** pending: waiting for the user; accepted: receiving (or waiting for the sender to come back); then complete, declined or failed. */
export type TransferState = 'pending' | 'accepted' | 'complete' | 'declined' | 'failed'

export interface TransferRow {
  id: string
  senderUserId: string
  senderName: string | null
  /** The offer's chunk size (its manifest's). */
  chunkSize: number
  /** The offer's first LISTED_PATHS file paths, in its order. */
  paths: string[]
  totalBytes: number
  fileCount: number
  state: TransferState
  error: string | null
  partialDir: string | null
  saved: string[]
  /** The directory `saved` is in (null: not complete, or completed before this was kept). */
  savedIn: string | null
  createdAt: number
  updatedAt: number
}

export interface FilesSettings {
  downloads: string
  acceptFrom: string[]
  /** A transfer under way whose sender sends nothing for this long is dropped; it stays resumable. */
  idleTimeoutSeconds: number
}

/** FilesSettings.idleTimeoutSeconds unless set: a sender's network stalls this long only when something is wrong. */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 120

export function defaultDownloads (): string {
  return join(homedir(), 'Downloads', 'cspace')
}

/**
 * A transfer's columns. Its manifest is kept apart (table `offers`) and never
 * read back: each of the sender's connections brings the offer again, so the
 * stored one is the record of what was offered.
 */
const ROW_COLUMNS = 'id, sender_user_id, sender_name, chunk_size, first_paths, total_bytes, file_count, state, error, partial_dir, saved, saved_in, created_at, updated_at'

/** A new transfer's row, with the whole offer. */
export type NewTransfer = Omit<TransferRow, 'chunkSize' | 'paths' | 'createdAt' | 'updatedAt' | 'saved' | 'savedIn' | 'error'> & { manifest: Manifest }

/** The receiver's records in `apps/files/files.db`: offers and their state, and the settings. */
export class FilesStore {
  private constructor (private readonly store: AppStore) {}

  static open (home: string): FilesStore {
    return new FilesStore(openAppStore('files', FILES_STORE_MIGRATIONS, { home }))
  }

  get (id: string): TransferRow | undefined {
    const r = this.store.prepare(`SELECT ${ROW_COLUMNS} FROM transfers WHERE id = ?`).get(id) as Record<string, unknown> | undefined
    return r == null ? undefined : this.toRow(r)
  }

  /** The transfer whose ID is `id` or starts with it (at least 4 characters), if exactly one does. */
  find (id: string): TransferRow | undefined {
    if (!/^[0-9a-f]{4,16}$/.test(id)) return undefined
    const rows = this.store.prepare(`SELECT ${ROW_COLUMNS} FROM transfers WHERE id LIKE ? LIMIT 2`).all(`${id}%`) as Array<Record<string, unknown>>
    return rows.length === 1 ? this.toRow(rows[0]) : undefined
  }

  list (): TransferRow[] {
    return (this.store.prepare(`SELECT ${ROW_COLUMNS} FROM transfers ORDER BY created_at, id`).all() as Array<Record<string, unknown>>).map(r => this.toRow(r))
  }

  /** Offers waiting for the user's answer: all, and from this sender. */
  pendingCount (senderUserId: string): { all: number, fromSender: number } {
    const r = this.store.prepare("SELECT COUNT(*) AS a, COALESCE(SUM(sender_user_id = ?), 0) AS s FROM transfers WHERE state = 'pending'").get(senderUserId) as { a: number, s: number }
    return { all: Number(r.a), fromSender: Number(r.s) }
  }

  insert (row: NewTransfer): void {
    const now = Date.now()
    const paths = row.manifest.files.slice(0, LISTED_PATHS).map(f => f.path)
    this.store.transaction(() => {
      this.store.prepare(`INSERT INTO transfers (id, sender_user_id, sender_name, chunk_size, first_paths, total_bytes, file_count, state, partial_dir, saved, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)`).run(row.id, row.senderUserId, row.senderName, row.manifest.chunkSize, JSON.stringify(paths), row.totalBytes, row.fileCount, row.state, row.partialDir, now, now)
      this.store.prepare('INSERT INTO offers (id, manifest) VALUES (?, ?)').run(row.id, JSON.stringify(row.manifest))
    })
  }

  update (id: string, fields: { state?: TransferState, error?: string | null, partialDir?: string | null, saved?: string[], savedIn?: string | null, senderName?: string | null }): void {
    const sets: string[] = ['updated_at = ?']
    const values: Array<string | number | null> = [Date.now()]
    if (fields.state !== undefined) { sets.push('state = ?'); values.push(fields.state) }
    if (fields.error !== undefined) { sets.push('error = ?'); values.push(fields.error) }
    if (fields.partialDir !== undefined) { sets.push('partial_dir = ?'); values.push(fields.partialDir) }
    if (fields.saved !== undefined) { sets.push('saved = ?'); values.push(JSON.stringify(fields.saved)) }
    if (fields.savedIn !== undefined) { sets.push('saved_in = ?'); values.push(fields.savedIn) }
    if (fields.senderName !== undefined) { sets.push('sender_name = ?'); values.push(fields.senderName) }
    this.store.prepare(`UPDATE transfers SET ${sets.join(', ')} WHERE id = ?`).run(...values, id)
  }

  remove (id: string): void {
    this.store.transaction(() => {
      this.store.prepare('DELETE FROM transfers WHERE id = ?').run(id)
      this.store.prepare('DELETE FROM offers WHERE id = ?').run(id)
    })
  }

  settings (): FilesSettings {
    const get = (k: string): string | undefined => (this.store.prepare('SELECT value FROM settings WHERE key = ?').get(k) as { value: string } | undefined)?.value
    const idle = Number(get('idle_timeout_seconds'))
    return {
      downloads: get('downloads') ?? defaultDownloads(),
      acceptFrom: JSON.parse(get('accept_from') ?? '[]') as string[],
      idleTimeoutSeconds: Number.isInteger(idle) && idle > 0 ? idle : DEFAULT_IDLE_TIMEOUT_SECONDS
    }
  }

  saveSettings (s: FilesSettings): void {
    this.store.transaction(() => {
      const put = this.store.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      put.run('downloads', s.downloads)
      put.run('accept_from', JSON.stringify(s.acceptFrom))
      put.run('idle_timeout_seconds', String(s.idleTimeoutSeconds))
    })
  }

  close (): void {
    this.store.close()
  }

  private toRow (r: Record<string, unknown>): TransferRow {
    return {
      id: r.id as string,
      senderUserId: r.sender_user_id as string,
      senderName: r.sender_name as string | null,
      chunkSize: Number(r.chunk_size),
      paths: JSON.parse(r.first_paths as string) as string[],
      totalBytes: Number(r.total_bytes),
      fileCount: Number(r.file_count),
      state: r.state as TransferState,
      error: r.error as string | null,
      partialDir: r.partial_dir as string | null,
      saved: JSON.parse(r.saved as string) as string[],
      savedIn: r.saved_in as string | null,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at)
    }
  }
}
