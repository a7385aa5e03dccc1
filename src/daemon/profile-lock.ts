import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { DaemonAlreadyRunning } from './errors.js'

/**
 * One daemon per profile: an exclusive-create lock file holding the pid. A
 * lock left by a dead process (SIGKILL, power loss) is taken over.
 */
export class ProfileLock {
  private constructor (private readonly path: string) {}

  static acquire (path: string, home: string): ProfileLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600)
        writeSync(fd, String(process.pid))
        closeSync(fd)
        return new ProfileLock(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        const holder = lockHolder(path)
        if (holder != null) throw new DaemonAlreadyRunning(home, holder)
        unlinkSync(path) // stale: its owner is gone
      }
    }
    throw new Error(`could not take the profile lock ${path}`)
  }

  release (): void {
    try { unlinkSync(this.path) } catch {}
  }
}

/** The live process holding the lock at this path (another than this one), if any. */
export function lockHolder (path: string): number | undefined {
  let pid: number
  try { pid = Number(readFileSync(path, 'utf8').trim()) } catch { return undefined }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
