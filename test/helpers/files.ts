import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const tempDirs: string[] = []

/** A fresh temporary directory, removed by removeTempDirs() (cleanupAll() calls it). */
export function tempDir (prefix = 'cspace-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

export function removeTempDirs (): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** Writes `size` random bytes to `path`; returns their SHA-256 (hex). */
export function writeRandomFile (path: string, size: number): string {
  const hash = createHash('sha256')
  const chunk = 4 * 1024 * 1024
  const parts: Buffer[] = []
  for (let off = 0; off < size; off += chunk) {
    const b = randomBytes(Math.min(chunk, size - off))
    hash.update(b)
    parts.push(b)
  }
  writeFileSync(path, Buffer.concat(parts))
  return hash.digest('hex')
}

export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
