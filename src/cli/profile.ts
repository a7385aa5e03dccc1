import { passphraseFromEnv } from './env.js'
import { ensureHome, openStore, profilePaths, resolveHome, type ProfilePaths, type Store } from '../store/index.js'

/** The profile the CLI works on: $CSPACE_HOME or ~/.cspace. */
export function cliProfile (): ProfilePaths {
  return profilePaths(resolveHome())
}

/** Opens the profile's store for a command that edits it directly, and closes it after. */
export function withStore<T> (fn: (store: Store, paths: ProfilePaths) => T): T {
  const paths = cliProfile()
  ensureHome(paths.home)
  const store = openStore(paths.database)
  try {
    return fn(store, paths)
  } finally {
    store.close()
  }
}

export { passphraseFromEnv }
