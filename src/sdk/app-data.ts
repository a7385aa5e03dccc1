import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { APP_NAME, appPaths, resolveHome, Store } from '../store/index.js'
import { UsageError } from '../errors.js'

/**
 * An application's private directory inside the profile, `$CSPACE_HOME/apps/NAME`,
 * created readable by the owner only: where an app keeps its database, its
 * control socket and its partial files, beside (never inside) cspace's own state.
 */
export function appDataDir (app: string, options: { home?: string } = {}): string {
  if (!APP_NAME.test(app)) throw new UsageError(`${JSON.stringify(app)} is not an application name (a-z, 0-9, -)`)
  const dir = appPaths(options.home ?? resolveHome(), app).dir
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(join(dir, '..'), 0o700)
  return dir
}

/**
 * The fixed places in an app's directory: `controlSocket`, where its
 * background part serves its front ends (the CLI's, and the daemon's web UI
 * bridge); `uploads`, where the daemon stages files a browser gives the app.
 */
export function appLayout (app: string, options: { home?: string } = {}): { dir: string, controlSocket: string, uploads: string } {
  appDataDir(app, options)
  return appPaths(options.home ?? resolveHome(), app)
}

/**
 * Opens the application's SQLite database (`apps/NAME/NAME.db`, 0600, WAL,
 * synchronous=FULL: a committed write survives a crash), applying
 * `migrations` in order — entry i takes the schema from version i to i + 1.
 */
export function openAppStore (app: string, migrations: readonly string[], options: { home?: string } = {}): Store {
  return Store.open(join(appDataDir(app, options), `${app}.db`), migrations)
}

export type { Store as AppStore }
