import { existsSync, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

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

/** Creates the profile directory, readable by its owner only. */
export function ensureHome (home: string): void {
  if (!existsSync(home)) mkdirSync(home, { recursive: true, mode: 0o700 })
}
