import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { KeyStore } from './key-store.js'
import { SqliteKeyStore } from './sqlite-key-store.js'
import { PostgresKeyStore } from './postgres-key-store.js'
import { CspaceError, UsageError } from '../../errors.js'

/**
 * Opens the store a --db value names: postgres://… or postgresql://… for
 * PostgreSQL, sqlite:PATH or a plain path for an SQLite file.
 */
export async function openKeyStore (db: string): Promise<KeyStore> {
  const postgres = /^postgres(ql)?:\/\//.test(db)
  const path = db.startsWith('sqlite:') ? db.slice('sqlite:'.length) : db
  // a URL of another scheme, or one mistyped (postgres:/…, pg://…), is not a file name
  if (!postgres && (path === '' || /^[a-z][a-z0-9+.-]*:\//i.test(path))) throw new UsageError(`--db ${JSON.stringify(redactDbUrl(db))}: give a file path, sqlite:PATH or postgres://USER:PASSWORD@HOST/DB`, 'BAD_DB_URL')
  try {
    if (postgres) return await PostgresKeyStore.open(sslModeAsChecked(db))
    if (path === ':memory:') return new SqliteKeyStore(path)
    // a path like /var/lib/cspace/keys.db on a new host: its directory is made (private), as the profile's is
    mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 })
    return new SqliteKeyStore(resolve(path))
  } catch (err) {
    const e = err as Error & { code?: string }
    // pg's words when the server wants a password and none was given (URL, ?password= or PGPASSWORD)
    if (postgres && /client password must be a string/.test(e.message)) throw new KeyStoreUnavailable(redactDbUrl(db), 'PostgreSQL asks for a password and none was given; put it in the URL or set PGPASSWORD')
    throw new KeyStoreUnavailable(redactDbUrl(db), (e.code != null && !e.message.includes(e.code) ? `${e.code}: ` : '') + e.message.split('\n')[0])
  }
}

/** The store named by --db cannot be opened: the server refuses to start rather than serve without it. */
export class KeyStoreUnavailable extends CspaceError {
  constructor (db: string, why: string) {
    super('KEYSTORE_UNAVAILABLE', `cannot open the key server's store ${db}: ${why}`)
  }
}

/**
 * A --db value fit for logs and errors: a URL's password (in the userinfo,
 * or as ?password=) is masked, whatever its scheme, a mistyped one too; a URL
 * that does not parse is not shown at all. (PGPASSWORD keeps the password
 * out of the command line altogether.)
 */
export function redactDbUrl (db: string): string {
  // scheme:/user:password@… (a slash missing) is no URL with a password, but holds one
  if (/^[a-z][a-z0-9+.-]*:\/(?!\/)/i.test(db)) return db.replace(/^([a-z][a-z0-9+.-]*:\/[^/:@]*:)[^@]*@/i, '$1***@')
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) return db
  try {
    const url = new URL(db)
    if (url.password !== '') url.password = '***'
    if (url.searchParams.has('password')) url.searchParams.set('password', '***')
    return url.toString().replace('%2A%2A%2A', '***')
  } catch {
    return `${db.slice(0, db.indexOf(':'))}://(a URL that does not parse)`
  }
}

/**
 * pg checks sslmode=prefer, require and verify-ca as verify-full (the
 * server's certificate, for its name), and says so in a ten-line warning on
 * stderr. The URL is given to it with verify-full, which is what it does
 * anyway, and the operator told in one line.
 */
function sslModeAsChecked (db: string): string {
  let url: URL
  try { url = new URL(db) } catch { return db } // pg says what is wrong with it
  const mode = url.searchParams.get('sslmode')
  if (mode == null || !['prefer', 'require', 'verify-ca'].includes(mode) || url.searchParams.has('uselibpqcompat')) return db
  process.stderr.write(`cspace: sslmode=${mode} is checked as verify-full by this PostgreSQL client: the server's certificate must be trusted, for its host name\n`)
  url.searchParams.set('sslmode', 'verify-full')
  return url.toString()
}
