import { homedir } from 'node:os'
import { join } from 'node:path'
import { openAppStore, type AppStore } from '../../sdk/index.js'
import type { Manifest } from './manifest.js'

const MIGRATIONS: readonly string[] = [
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
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`
]

/** pending: waiting for the user; accepted: receiving (or waiting for the sender to come back); then complete, declined or failed. */
export type TransferState = 'pending' | 'accepted' | 'complete' | 'declined' | 'failed'

export interface TransferRow {
  id: string
  senderUserId: string
  senderName: string | null
  manifest: Manifest
  totalBytes: number
  fileCount: number
  state: TransferState
  error: string | null
  partialDir: string | null
  saved: string[]
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

/** The columns of a row but its manifest, which is read apart (FilesStore.manifestOf). */
const ROW_COLUMNS = 'id, sender_user_id, sender_name, total_bytes, file_count, state, error, partial_dir, saved, created_at, updated_at'

/**
 * Parsed manifests are kept up to this much of their JSON (a parsed one takes
 * about 1.25 times its JSON on the heap): an offer's may be 8 MiB (wire.ts),
 * whose read took 52-78 ms, and a transfer's row is read on every event
 * about it and for every listing. One of the largest fits, and many small.
 */
export const MANIFEST_CACHE_BYTES = 16 * 1024 * 1024

/** The receiver's records in `apps/files/files.db`: offers and their state, and the settings. */
export class FilesStore {
  /**
   * Manifests by transfer ID, least recently used first. An ID is the hash
   * of its sender and manifest (receiver.ts transferId), so a manifest never
   * changes under its ID; the objects are shared, and nobody changes them.
   */
  private readonly manifests = new Map<string, { manifest: Manifest, bytes: number }>()
  private manifestBytes = 0

  private constructor (private readonly store: AppStore) {}

  static open (home: string): FilesStore {
    return new FilesStore(openAppStore('files', MIGRATIONS, { home }))
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

  insert (row: Omit<TransferRow, 'createdAt' | 'updatedAt' | 'saved' | 'error'>): void {
    const now = Date.now()
    this.store.prepare(`INSERT INTO transfers (id, sender_user_id, sender_name, manifest, total_bytes, file_count, state, partial_dir, saved, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)`).run(row.id, row.senderUserId, row.senderName, JSON.stringify(row.manifest), row.totalBytes, row.fileCount, row.state, row.partialDir, now, now)
  }

  /** The manifest of transfer `id`, parsed once while it stays among the most recently used. */
  private manifestOf (id: string): Manifest {
    const kept = this.manifests.get(id)
    if (kept != null) {
      this.manifests.delete(id)
      this.manifests.set(id, kept)
      return kept.manifest
    }
    const json = (this.store.prepare('SELECT manifest FROM transfers WHERE id = ?').get(id) as { manifest: string }).manifest
    const manifest = JSON.parse(json) as Manifest
    this.manifests.set(id, { manifest, bytes: json.length })
    this.manifestBytes += json.length
    for (const [oldest, entry] of this.manifests) {
      if (this.manifestBytes <= MANIFEST_CACHE_BYTES || oldest === id) break
      this.manifests.delete(oldest)
      this.manifestBytes -= entry.bytes
    }
    return manifest
  }

  /** JSON bytes of the manifests kept parsed (at most MANIFEST_CACHE_BYTES, or the one most recently read if alone larger). */
  get cachedManifestBytes (): number {
    return this.manifestBytes
  }

  private forgetManifest (id: string): void {
    const kept = this.manifests.get(id)
    if (kept == null) return
    this.manifests.delete(id)
    this.manifestBytes -= kept.bytes
  }

  update (id: string, fields: { state?: TransferState, error?: string | null, partialDir?: string | null, saved?: string[], senderName?: string | null }): void {
    const sets: string[] = ['updated_at = ?']
    const values: Array<string | number | null> = [Date.now()]
    if (fields.state !== undefined) { sets.push('state = ?'); values.push(fields.state) }
    if (fields.error !== undefined) { sets.push('error = ?'); values.push(fields.error) }
    if (fields.partialDir !== undefined) { sets.push('partial_dir = ?'); values.push(fields.partialDir) }
    if (fields.saved !== undefined) { sets.push('saved = ?'); values.push(JSON.stringify(fields.saved)) }
    if (fields.senderName !== undefined) { sets.push('sender_name = ?'); values.push(fields.senderName) }
    this.store.prepare(`UPDATE transfers SET ${sets.join(', ')} WHERE id = ?`).run(...values, id)
  }

  remove (id: string): void {
    this.store.prepare('DELETE FROM transfers WHERE id = ?').run(id)
    this.forgetManifest(id)
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
    return rowFrom(r, this.manifestOf(r.id as string))
  }
}

function rowFrom (r: Record<string, unknown>, manifest: Manifest): TransferRow {
  return {
    id: r.id as string,
    senderUserId: r.sender_user_id as string,
    senderName: r.sender_name as string | null,
    manifest,
    totalBytes: Number(r.total_bytes),
    fileCount: Number(r.file_count),
    state: r.state as TransferState,
    error: r.error as string | null,
    partialDir: r.partial_dir as string | null,
    saved: JSON.parse(r.saved as string) as string[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at)
  }
}
