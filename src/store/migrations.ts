/**
 * Schema migrations, applied in order; index i brings the database from
 * `PRAGMA user_version` i to i + 1. Never edit a shipped entry: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
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
   CREATE TABLE kv (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );`,
  // a contact added from a key server remembers the log entry its key was pinned at
  `ALTER TABLE contacts ADD COLUMN keyserver_url TEXT;
   ALTER TABLE contacts ADD COLUMN keyserver_username TEXT;
   ALTER TABLE contacts ADD COLUMN pinned_seq INTEGER;
   ALTER TABLE contacts ADD COLUMN pinned_hash TEXT;`,
  // an expose may cap its sessions open at once (NULL: no cap of its own)
  'ALTER TABLE exposes ADD COLUMN max_sessions INTEGER;'
]

export const SCHEMA_VERSION = MIGRATIONS.length
