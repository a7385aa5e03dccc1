import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { ProfileNotADirectory, ProfileDirectoryShared } from './errors.js'

/** Where each part of a profile lives. */
export interface ProfilePaths {
  home: string
  keyFile: string
  database: string
  config: string
  daemonInfo: string
  apiToken: string
  lock: string
}

/** $CSPACE_HOME, else ~/.cspace; always absolute. */
export function resolveHome (env: NodeJS.ProcessEnv = process.env): string {
  const h = env.CSPACE_HOME
  return resolve(h != null && h !== '' ? h : join(homedir(), '.cspace'))
}

export function profilePaths (home: string): ProfilePaths {
  const h = resolve(home)
  return {
    home: h,
    keyFile: join(h, 'identity.key'),
    database: join(h, 'cspace.db'),
    config: join(h, 'config.json'),
    daemonInfo: join(h, 'daemon.json'),
    apiToken: join(h, 'api-token'),
    lock: join(h, 'daemon.lock')
  }
}

/** An application's name: its directory `apps/NAME` in the profile, and the service hosts' key. */
export const APP_NAME = /^[a-z][a-z0-9-]{0,31}$/

/**
 * An application's private directory, `apps/NAME` (created by the SDK's
 * appDataDir), and the Unix control socket its background part serves there
 * (apps/host): the daemon's web UI bridge reaches an app by this layout alone.
 */
export function appPaths (home: string, app: string): { dir: string, controlSocket: string, uploads: string } {
  const dir = join(resolve(home), 'apps', app)
  return { dir, controlSocket: join(dir, 'control.sock'), uploads: join(dir, 'uploads') }
}

/**
 * Creates the profile directory, for its owner only. One that exists and
 * lets others in (made by hand with the umask's 0755) is made so too: its
 * files are private, but their names and sizes are not. Only a directory
 * holding nothing but cspace's files is closed so: CSPACE_HOME set to a home
 * or a shared directory (/tmp) by mistake is refused, not locked. Answers
 * whether it changed an existing directory, for the caller to say so.
 */
export function ensureHome (home: string): boolean {
  if (!existsSync(home)) {
    mkdirSync(home, { recursive: true, mode: 0o700 })
    return false
  }
  const st = statSync(home)
  if (!st.isDirectory()) throw new ProfileNotADirectory(home)
  if ((st.mode & 0o077) === 0) return false
  // sticky: a directory made for many users to share (/tmp, /dev/shm), whatever it holds now
  if ((st.mode & 0o1000) !== 0) throw new ProfileDirectoryShared(home)
  if (st.uid !== process.getuid?.()) {
    // another user's directory (root running a user's profile) is theirs to set; one that others may write into is nobody's profile
    if ((st.mode & 0o022) !== 0) throw new ProfileDirectoryShared(home)
    return false
  }
  if (!readdirSync(home).every(isCspaceName)) throw new ProfileDirectoryShared(home)
  chmodSync(home, st.mode & 0o700)
  return true
}

/** What cspace keeps in a profile directory (profilePaths, apps/, the key server's database, the UI's login page), and what a file system or Finder puts in any. */
const CSPACE_NAMES = new Set(['identity.key', 'config.json', 'daemon.json', 'api-token', 'daemon.lock', 'apps', 'ui-login.html', 'lost+found', '.DS_Store'])

function isCspaceName (name: string): boolean {
  // util/atomic-file.ts's temporary names: `.config.json.0123456789ab.tmp`
  return CSPACE_NAMES.has(name) || /^(cspace|keyserver)\.db(-wal|-shm|-journal)?$/.test(name) || /^\.[\w.-]+\.[0-9a-f]{12}\.tmp$/.test(name)
}

/** What `ensureHome` changed, as a user is told it. */
export function homeMadePrivateNote (home: string): string {
  return `the profile directory ${home} was open to other users; it is now for you only (0700)`
}
