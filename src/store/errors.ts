import { CspaceError } from '../errors.js'

/** The database file is damaged; it is never silently reset. */
export class StoreCorrupt extends CspaceError {
  constructor (path: string, why: string, options?: { cause?: unknown }) {
    super('STORE_CORRUPT', `the profile store ${path} is corrupt (${why}); restore it from a backup, or move it away to start a new profile`, 1, options)
  }
}

/** The database exists and may be fine, but cannot be opened now (permissions, locks, disk full). */
export class StoreUnavailable extends CspaceError {
  constructor (path: string, why: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', `cannot open the profile store ${path} (${why}); ${unavailableHint(why)}`, 1, options)
  }
}

/**
 * A migration to a newer schema failed; it was rolled back, so the file is as
 * it was, at its old version, which this cspace cannot use.
 */
export class StoreUpgradeFailed extends CspaceError {
  constructor (path: string, from: number, to: number, why: string, options?: { cause?: unknown }) {
    super('STORE_UPGRADE_FAILED', `could not upgrade the store ${path} from schema version ${from} to ${to} (${why}); it is unchanged: run the cspace that wrote it, or report this error`, 1, options)
  }
}

/** The database was written by a newer cspace. */
export class StoreTooNew extends CspaceError {
  constructor (path: string, version: number, known: number) {
    super('STORE_TOO_NEW', `the profile store ${path} has schema version ${version}, newer than this cspace knows (${known}); upgrade cspace`)
  }
}

/** The profile directory ($CSPACE_HOME, or ~/.cspace) is a file, or something else that is not a directory. */
export class ProfileNotADirectory extends CspaceError {
  constructor (home: string) {
    super('PROFILE_NOT_A_DIRECTORY', `the profile directory ${home} is not a directory; move it away, or set CSPACE_HOME to a directory for the profile`, 2)
  }
}

/** The profile directory is one others may enter that holds other things than a profile (a home, /tmp). */
export class ProfileDirectoryShared extends CspaceError {
  constructor (home: string) {
    super('PROFILE_DIRECTORY_SHARED', `the profile directory ${home} is open to other users and holds files that are not cspace's; set CSPACE_HOME to a directory of cspace's own`, 2)
  }
}

export class ConfigInvalid extends CspaceError {
  constructor (path: string, why: string) {
    super('CONFIG_INVALID', `the config file ${path} is invalid: ${why}; fix it or remove it to use the defaults`, 2)
  }
}

/** What to do about a store that cannot be opened or written, from SQLite's words. */
export function unavailableHint (why: string): string {
  if (/full|I\/O/i.test(why)) return 'is the disk full? Free some space and try again'
  if (/locked|busy/i.test(why)) return 'another program holds it; try again in a moment'
  if (/readonly|read-only|permission|unable to open/i.test(why)) return 'check that you may write to the profile directory (CSPACE_HOME)'
  return 'try again; if it keeps failing, check the disk'
}
