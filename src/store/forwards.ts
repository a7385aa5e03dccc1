import type { Store } from './database.js'

/** A port forward: a local TCP port that connects to a contact's service. */
export interface ForwardRecord {
  port: number
  /** The contact's name, as in the address book. */
  contact: string
  service: string
}

interface Row { port: number, contact: string, service: string }

/** Port forwards, persisted so they come back with the daemon. */
export class ForwardTable {
  private readonly store: Store

  constructor (store: Store) {
    this.store = store
  }

  list (): ForwardRecord[] {
    const rows = this.store.prepare('SELECT port, contact, service FROM forwards ORDER BY port').all() as unknown as Row[]
    return rows.map(r => ({ port: r.port, contact: r.contact, service: r.service }))
  }

  /** Adds the forward, or re-points an existing port. */
  put (f: ForwardRecord): void {
    this.store.prepare(`INSERT INTO forwards (port, contact, service, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(port) DO UPDATE SET contact = excluded.contact, service = excluded.service`).run(f.port, f.contact, f.service, Date.now())
  }

  /** True if the port was forwarded. */
  remove (port: number): boolean {
    return Number(this.store.prepare('DELETE FROM forwards WHERE port = ?').run(port).changes) > 0
  }
}
