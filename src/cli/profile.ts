import { setTimeout as sleep } from 'node:timers/promises'
import { passphraseFromEnv } from './env.js'
import { ensureHome, homeMadePrivateNote, openStore, profilePaths, resolveHome, type ProfilePaths, type Store } from '../store/index.js'
import { LocalApiClient, locateDaemon } from '../sdk/index.js'
import { DaemonNotRunning } from '../daemon/errors.js'
import { lockHolder } from '../daemon/profile-lock.js'
import { CspaceError } from '../errors.js'

/** The profile the CLI works on: $CSPACE_HOME or ~/.cspace. */
export function cliProfile (): ProfilePaths {
  return profilePaths(resolveHome())
}

/** Opens the profile's store for a command that edits it directly, and closes it after. */
export function withStore<T> (fn: (store: Store, paths: ProfilePaths) => T): T {
  const paths = cliProfile()
  if (ensureHome(paths.home)) process.stderr.write(`cspace: ${homeMadePrivateNote(paths.home)}\n`)
  const store = openStore(paths.database)
  try {
    return fn(store, paths)
  } finally {
    store.close()
  }
}

/**
 * After a command wrote the profile's store directly: the running daemon reads
 * contacts from memory, so it is told to re-read them now. If it cannot be
 * told (stopping, starting), its store watcher sees the commit within a second.
 */
export async function tellDaemonStoreChanged (): Promise<void> {
  // the write is done: a daemon stuck starting sees it through its store watcher once it runs
  if (!await daemonUp().catch(() => false)) return
  await new LocalApiClient().post('/v1/profile/changed', {}).catch(() => {})
}

/** How long a command waits for a daemon that holds the profile's lock but has not yet said where its API is. */
const DAEMON_STARTING_WAIT_MS = 30_000

/**
 * Whether the profile's daemon runs, waiting out one that is starting (it
 * holds daemon.lock, and writes daemon.json only once it has read the
 * profile's tunnels): a command that can also work on the store alone must
 * not write a table such a daemon has already read.
 */
export async function daemonUp (): Promise<boolean> {
  const paths = cliProfile()
  const deadline = Date.now() + DAEMON_STARTING_WAIT_MS
  for (;;) {
    if (daemonRunning()) return true
    const starting = lockHolder(paths.lock)
    if (starting == null) return false
    if (Date.now() > deadline) throw new CspaceError('DAEMON_STARTING', `the daemon for the profile ${paths.home} (pid ${starting}) is still starting; try again in a moment`)
    await sleep(100)
  }
}

/**
 * A change the daemon applies when it runs, or written to the profile's
 * store for its next start. A daemon that started meanwhile may have read
 * the store before the write, so it is handed the change too: `toDaemon`
 * must be idempotent, and `alreadySo` is the error code it answers when the
 * change is already so (a removal). `running`: whether a daemon has it now.
 */
export async function applyOrSave<T> (toDaemon: () => Promise<T>, toStore: () => T, alreadySo?: string): Promise<{ result: T, running: boolean }> {
  if (await daemonUp()) return { result: await toDaemon(), running: true }
  let result = toStore()
  if (!await daemonUp()) return { result, running: false }
  try {
    result = await toDaemon()
  } catch (err) {
    if (alreadySo == null || (err as CspaceError).code !== alreadySo) throw err
  }
  return { result, running: true }
}

/** Whether the profile's daemon runs: commands that can also work on the store alone ask first. */
export function daemonRunning (): boolean {
  try {
    locateDaemon()
    return true
  } catch (err) {
    if (err instanceof DaemonNotRunning) return false
    throw err
  }
}

export { passphraseFromEnv }
