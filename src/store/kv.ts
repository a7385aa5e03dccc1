import type { Store } from './database.js'

/** Small named values the daemon keeps (e.g. the last presence sequence number). */
export function getKv (store: Store, key: string): string | undefined {
  return (store.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined)?.value
}

export function setKv (store: Store, key: string, value: string): void {
  store.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
}
