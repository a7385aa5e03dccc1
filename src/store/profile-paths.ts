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

/** Creates the profile directory, readable by its owner only. */
export function ensureHome (home: string): void {
  if (!existsSync(home)) mkdirSync(home, { recursive: true, mode: 0o700 })
}
