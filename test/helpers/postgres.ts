import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import pg from 'pg'
import { tempDir } from './files.js'
import { waitFor } from './wait.js'
import { freePort } from './sshd.js'

/**
 * A private PostgreSQL server for one test file, from Debian's postgresql
 * package: initdb into a temporary directory, postgres on a free loopback
 * port with trust auth (but for the password roles), stopped and removed by stop(). Nothing is shared with
 * a system cluster. As root it runs as the `postgres` user, since PostgreSQL
 * refuses to run as root.
 */
export interface PostgresServer {
  port: number
  /** A new, empty database on this server; returns its URL. */
  createDatabase: (name?: string) => Promise<string>
  /**
   * A new database owned by a role that must log in with a password (SCRAM,
   * as a managed server asks); returns its URL without the password.
   */
  createPasswordDatabase: (password: string) => Promise<string>
  stop: () => Promise<void>
}

export function postgresBinDir (): string {
  const base = '/usr/lib/postgresql'
  const versions = existsSync(base) ? readdirSync(base).filter(v => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : []
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it')
  return join(base, versions[0], 'bin')
}

export async function startPostgres (opts: { durable?: boolean } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir()
  const dir = tempDir('cspace-pg-')
  const asRoot = process.getuid?.() === 0
  // spawned as the postgres user directly (not through runuser), so that signals reach postgres itself
  const owner = asRoot ? { uid: uid('postgres'), gid: gid('postgres') } : {}
  if (asRoot) chownSync(dir, uid('postgres'), gid('postgres'))
  const data = join(dir, 'data')
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'], { encoding: 'utf8', cwd: dir, ...owner })
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`)
  // members of pw_users log in with a password; the first matching line wins
  const hba = join(data, 'pg_hba.conf')
  writeFileSync(hba, `host all +pw_users 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`)
  const port = await freePort()
  // tests want speed; the benchmark asks for durability like SQLite's synchronous=FULL
  const durability = opts.durable === true ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
  const proc: ChildProcess = spawn(join(bin, 'postgres'), ['-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...durability],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...owner })
  let log = ''
  proc.stderr?.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-4000) })
  const exited = once(proc, 'exit')
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`
  await waitFor(`PostgreSQL on port ${port} (${log})`, async () => {
    if (proc.exitCode != null) throw new Error(`postgres exited: ${log}`)
    const c = new pg.Client(admin)
    try { await c.connect(); return true } finally { await c.end().catch(() => {}) }
  }, 30_000, 100)
  let n = 0
  return {
    port,
    createDatabase: async (name = `ks${process.pid}_${++n}`) => {
      const c = new pg.Client(admin)
      await c.connect()
      try { await c.query(`CREATE DATABASE "${name}"`) } finally { await c.end() }
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    createPasswordDatabase: async (password) => {
      const name = `pw_${process.pid}_${++n}`
      const c = new pg.Client(admin)
      await c.connect()
      try {
        await c.query('DO $$ BEGIN CREATE ROLE pw_users NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$')
        await c.query(`CREATE ROLE "${name}" LOGIN IN ROLE pw_users PASSWORD '${password.replaceAll("'", "''")}'`)
        await c.query(`CREATE DATABASE "${name}" OWNER "${name}"`)
      } finally { await c.end() }
      return `postgres://${name}@127.0.0.1:${port}/${name}`
    },
    stop: async () => {
      if (proc.exitCode == null && proc.signalCode == null) {
        proc.kill('SIGINT') // fast shutdown: ends sessions, checkpoints, exits
        await exited
      }
    }
  }
}

function uid (user: string): number {
  return Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim())
}

function gid (user: string): number {
  return Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim())
}
