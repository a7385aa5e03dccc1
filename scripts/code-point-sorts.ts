// An esbuild plugin for the `cspace` bundle (bundle-cli.ts): libp2p's peer
// store sorts multiaddrs, protocol names and keys with
// String.prototype.localeCompare, only to keep and compare them in a fixed
// order. Any fixed order does, but a process's first localeCompare makes ICU
// load its collation tables: 2.2 MiB of an idle daemon's resident memory
// (docs/BENCHMARKS.md, "Idle memory: collation tables"). Those modules are
// bundled comparing code points instead. Each edit names the exact text it
// replaces: a new version of the library that changed it fails the build,
// saying which, rather than quietly loading the tables again.
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Plugin } from 'esbuild'

export interface SortEdit {
  /** The module's path under node_modules. */
  module: string
  from: string
  to: string
  /** How many times `from` occurs in the module. */
  count: number
}

export const CODE_POINT_SORTS: readonly SortEdit[] = [
  { module: '@libp2p/peer-store/dist/src/utils/to-peer-pb.js', from: 'a.localeCompare(b)', to: 'compareCodePoints(a, b)', count: 2 },
  { module: '@libp2p/peer-store/dist/src/utils/dedupe-addresses.js', from: 'a.multiaddr.toString().localeCompare(b.multiaddr.toString())', to: 'compareCodePoints(a.multiaddr.toString(), b.multiaddr.toString())', count: 1 },
  { module: '@libp2p/peer-record/dist/src/peer-record/utils.js', from: 'a.toString().localeCompare(b.toString())', to: 'compareCodePoints(a.toString(), b.toString())', count: 1 }
]

/** Appended to each edited module; a module that already declares the name fails to bundle. */
const COMPARE_CODE_POINTS = '\nfunction compareCodePoints (a, b) { return a < b ? -1 : a > b ? 1 : 0 }\n'

/** `source` with the edits made; throws, naming the module, where the text is not as expected. */
export function rewriteSorts (module: string, source: string, edits: readonly SortEdit[]): string {
  let out = source
  for (const e of edits) {
    const found = out.split(e.from).length - 1
    if (found !== e.count) throw new Error(`${module}: expected ${e.count} × "${e.from}", found ${found}; the library changed: update scripts/code-point-sorts.ts`)
    out = out.replaceAll(e.from, e.to)
  }
  if (out.includes('localeCompare')) throw new Error(`${module}: a localeCompare not covered by scripts/code-point-sorts.ts; add it there`)
  return out + COMPARE_CODE_POINTS
}

/** The plugin: edits the listed modules as they load, and fails the build if one of them never loaded. */
export function codePointSorts (edits: readonly SortEdit[] = CODE_POINT_SORTS): Plugin {
  const modules = [...new Set(edits.map(e => e.module))]
  return {
    name: 'code-point-sorts',
    setup (build) {
      const seen = new Set<string>()
      build.onStart(() => { seen.clear() })
      build.onLoad({ filter: /[\\/]node_modules[\\/]@libp2p[\\/].*\.js$/ }, async (args) => {
        const path = args.path.replaceAll('\\', '/')
        const module = modules.find(m => path.endsWith(`/node_modules/${m}`))
        if (module == null) return undefined
        seen.add(module)
        const source = await readFile(args.path, 'utf8')
        // resolveDir: the module's own imports resolve as before
        return { contents: rewriteSorts(module, source, edits.filter(e => e.module === module)), loader: 'js', resolveDir: dirname(args.path) }
      })
      build.onEnd((result) => {
        if (result.errors.length > 0) return
        const missing = modules.filter(m => !seen.has(m))
        if (missing.length > 0) return { errors: [{ text: `not bundled any more: ${missing.join(', ')}; update scripts/code-point-sorts.ts` }] }
        return undefined
      })
    }
  }
}
