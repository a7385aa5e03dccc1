import { existsSync, readFileSync, statSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { writeFileAtomic } from '../util/atomic-file.js'
import { isAlive } from './profile-lock.js'

/** $CSPACE_HOME/daemon.json: how local clients find the running daemon. Version 1. */
export interface DaemonInfo {
  v: 1
  pid: number
  apiPort: number
  appPort: number
  peerId: string
  startedAt: number
}

export function writeDaemonInfo (path: string, info: DaemonInfo): void {
  writeFileAtomic(path, JSON.stringify(info, null, 2) + '\n', 0o600)
}

/** The running daemon's info, or undefined when none runs (or the file is stale). */
export function readDaemonInfo (path: string): DaemonInfo | undefined {
  if (!existsSync(path) || statSync(path).size > 64 * 1024) return undefined
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as DaemonInfo
    if (info.v !== 1 || !Number.isInteger(info.pid) || !Number.isInteger(info.apiPort) || !Number.isInteger(info.appPort)) return undefined
    return isAlive(info.pid) ? info : undefined
  } catch {
    return undefined
  }
}

/** A fresh bearer token for the local API, written 0600. Never logged. */
export function createApiToken (path: string): string {
  const token = randomBytes(32).toString('base64url')
  writeFileAtomic(path, token + '\n', 0o600)
  return token
}

export function readApiToken (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}
