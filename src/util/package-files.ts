// Files that ship beside the compiled code (the web UI, the native addons, the
// chunk worker) are found from the package root, so the same code finds them
// whether it runs from the CLI's bundle (dist/cspace.mjs) or from dist/src/.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findPackageRoot (from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: is cspace installed whole?`)
  }
}

/** The directory holding cspace's package.json. */
export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)))

/** The path of a file of the package, from its root: `packageFile('dist', 'ui')`. */
export function packageFile (...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts)
}

/**
 * One of the package's native addons (native/*.c, built into build/Release
 * by `npm ci`), or undefined if it is not built or cannot load here: each
 * caller decides what to do without it.
 */
export function loadNativeAddon<T> (name: string): T | undefined {
  try {
    return createRequire(import.meta.url)(packageFile('build', 'Release', `${name}.node`)) as T
  } catch {
    return undefined
  }
}
