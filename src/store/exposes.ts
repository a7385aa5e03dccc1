import type { Store } from './database.js'

/** An exposed service: a name contacts may connect to, and what answers it locally. */
export interface ExposeRecord {
  service: string
  /** 'tcp': target is host:port; 'exec': target is a command line. */
  kind: 'tcp' | 'exec'
  target: string
  /** Sessions open at once past which new ones are refused (none: no cap of its own). */
  maxSessions?: number
}

interface Row { service: string, kind: 'tcp' | 'exec', target: string, max_sessions: number | null }

/** Exposed services, persisted so they survive restarts. */
export class ExposeTable {
  private readonly store: Store

  constructor (store: Store) {
    this.store = store
  }

  list (): ExposeRecord[] {
    const rows = this.store.prepare('SELECT service, kind, target, max_sessions FROM exposes ORDER BY service').all() as unknown as Row[]
    return rows.map(toRecord)
  }

  get (service: string): ExposeRecord | undefined {
    const row = this.store.prepare('SELECT service, kind, target, max_sessions FROM exposes WHERE service = ?').get(service) as Row | undefined
    return row != null ? toRecord(row) : undefined
  }

  /** Adds the service, or replaces its target (keeping when it was first created). */
  put (e: ExposeRecord): void {
    this.store.prepare(`INSERT INTO exposes (service, kind, target, max_sessions, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(service) DO UPDATE SET kind = excluded.kind, target = excluded.target, max_sessions = excluded.max_sessions`).run(e.service, e.kind, e.target, e.maxSessions ?? null, Date.now())
  }

  /** True if the service was there. */
  remove (service: string): boolean {
    return Number(this.store.prepare('DELETE FROM exposes WHERE service = ?').run(service).changes) > 0
  }
}

// Copies the fields so callers never hold SQLite's null-prototype row objects.
function toRecord (r: Row): ExposeRecord {
  return { service: r.service, kind: r.kind, target: r.target, ...(r.max_sessions != null ? { maxSessions: Number(r.max_sessions) } : {}) }
}
