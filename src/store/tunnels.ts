import type { Store } from './database.js'

export interface ExposeRecord { service: string, kind: 'tcp' | 'exec', target: string }
export interface ForwardRecord { port: number, contact: string, service: string }

/** Exposed services, persisted so they survive restarts. */
export class ExposeTable {
  constructor (private readonly store: Store) {}

  list (): ExposeRecord[] {
    const rows = this.store.db.prepare('SELECT service, kind, target FROM exposes ORDER BY service').all() as unknown as ExposeRecord[]
    return rows.map(r => ({ service: r.service, kind: r.kind, target: r.target }))
  }

  put (e: ExposeRecord): void {
    this.store.db.prepare(`INSERT INTO exposes (service, kind, target, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(service) DO UPDATE SET kind = excluded.kind, target = excluded.target`).run(e.service, e.kind, e.target, Date.now())
  }

  remove (service: string): boolean {
    return Number(this.store.db.prepare('DELETE FROM exposes WHERE service = ?').run(service).changes) > 0
  }
}

/** Port forwards, persisted so they come back with the daemon. */
export class ForwardTable {
  constructor (private readonly store: Store) {}

  list (): ForwardRecord[] {
    const rows = this.store.db.prepare('SELECT port, contact, service FROM forwards ORDER BY port').all() as unknown as ForwardRecord[]
    return rows.map(r => ({ port: r.port, contact: r.contact, service: r.service }))
  }

  put (f: ForwardRecord): void {
    this.store.db.prepare(`INSERT INTO forwards (port, contact, service, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(port) DO UPDATE SET contact = excluded.contact, service = excluded.service`).run(f.port, f.contact, f.service, Date.now())
  }

  remove (port: number): boolean {
    return Number(this.store.db.prepare('DELETE FROM forwards WHERE port = ?').run(port).changes) > 0
  }
}
