import { profilePaths, resolveHome } from '../store/profile-paths.js'
import { readApiToken, readDaemonInfo, type DaemonInfo } from '../daemon/daemon-info.js'
import { DaemonNotRunning } from '../daemon/errors.js'
import { IdentityMissing } from '../identity/errors.js'
import { existsSync } from 'node:fs'

export interface SdkOptions {
  /** The profile directory; default $CSPACE_HOME or ~/.cspace. */
  home?: string
}

export interface DaemonEndpoint { info: DaemonInfo, token: string, home: string }

/** Finds the profile's running daemon and its API token, or throws DaemonNotRunning. */
export function locateDaemon (options: SdkOptions = {}): DaemonEndpoint {
  const home = options.home ?? resolveHome()
  const paths = profilePaths(home)
  const info = readDaemonInfo(paths.daemonInfo)
  const token = readApiToken(paths.apiToken)
  if (info == null || token == null) {
    // no profile at all (a mistyped CSPACE_HOME): say that, not that its daemon is down
    if (!existsSync(paths.keyFile)) throw new IdentityMissing(paths.keyFile)
    throw new DaemonNotRunning(home)
  }
  return { info, token, home }
}
