// An esbuild plugin for the `cspace` bundle (bundle-cli.ts): libp2p's peer
// store sorts multiaddrs, protocol names and keys with
// String.prototype.localeCompare, only to keep and compare them in a fixed
// order. Any fixed order does, but a process's first localeCompare makes ICU
// load its collation tables: 2.2 MiB of an idle daemon's resident memory
// (docs/BENCHMARKS.md, "Idle memory: collation tables"). Those modules are
// bundled comparing UTF-16 code units (JavaScript's `<` on strings) instead.
// Each edit names the exact text it replaces, and any other module of the
// bundle that calls localeCompare must be on an allow-list: a new version of
// a library that changed either fails the build, saying where, rather than
// quietly loading the tables again.
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { transform, type Plugin } from 'esbuild'

export interface SortEdit {
  /** The module's path under node_modules. */
  module: string
  from: string
  to: string
  /** How many times `from` occurs in the module. */
  count: number
}

export const CODE_UNIT_SORTS: readonly SortEdit[] = [
  { module: '@libp2p/peer-store/dist/src/utils/to-peer-pb.js', from: 'a.localeCompare(b)', to: 'compareCodeUnits(a, b)', count: 2 },
  { module: '@libp2p/peer-store/dist/src/utils/dedupe-addresses.js', from: 'a.multiaddr.toString().localeCompare(b.multiaddr.toString())', to: 'compareCodeUnits(a.multiaddr.toString(), b.multiaddr.toString())', count: 1 },
  { module: '@libp2p/peer-record/dist/src/peer-record/utils.js', from: 'a.toString().localeCompare(b.toString())', to: 'compareCodeUnits(a.toString(), b.toString())', count: 1 }
]

/**
 * Modules under node_modules that may keep their localeCompare: what they
 * sort is shown to a person, who wants a locale's order, and they never run
 * in an idle daemon.
 */
export const LOCALE_SORTS_ALLOWED: readonly string[] = [
  'commander/lib/help.js', // a command's help, printed by a CLI process
  'commander/lib/suggestSimilar.js', // "did you mean", likewise
  '@fastify/static/lib/dirList.js' // directory listings, which the web UI does not turn on (daemon/api/ui-pages.ts)
]

/** Appended to each edited module; a module that already declares the name fails to bundle. */
const COMPARE_CODE_UNITS = '\nfunction compareCodeUnits (a, b) { return a < b ? -1 : a > b ? 1 : 0 }\n'

/** `source` with the edits made; throws, naming the module, where the text is not as expected. */
export function rewriteSorts (module: string, source: string, edits: readonly SortEdit[]): string {
  let out = source
  for (const e of edits) {
    const found = out.split(e.from).length - 1
    if (found !== e.count) throw new Error(`${module}: expected ${e.count} × "${e.from}", found ${found}; the library changed: update scripts/code-unit-sorts.ts`)
    out = out.split(e.from).join(e.to) // not replaceAll: its "$&" and "$1" would be patterns in `to`
  }
  if (out.includes('localeCompare')) throw new Error(`${module}: a localeCompare not covered by scripts/code-unit-sorts.ts; add it there`)
  return out + COMPARE_CODE_UNITS
}

/** What loads the collation tables: String.prototype.localeCompare, or an Intl.Collator. */
const LOCALE_SORT = /localeCompare|Collator/

/**
 * The bundle's inputs (paths as esbuild's metafile gives them) whose code,
 * comments aside, names localeCompare or Intl.Collator and that are neither
 * edited nor allowed; `read` gives a file's text.
 */
export async function unlistedLocaleSorts (inputs: readonly string[], read: (path: string) => Promise<string>, edits: readonly SortEdit[] = CODE_UNIT_SORTS, allowed: readonly string[] = LOCALE_SORTS_ALLOWED): Promise<string[]> {
  const listed = [...edits.map(e => e.module), ...allowed]
  const found: string[] = []
  for (const input of inputs) {
    const path = input.replaceAll('\\', '/')
    if (!/\.[cm]?[jt]s$/.test(path) || listed.some(m => path.endsWith(`node_modules/${m}`))) continue
    const text = await read(input)
    if (LOCALE_SORT.test(text) && LOCALE_SORT.test(await withoutComments(text))) found.push(path)
  }
  return found
}

/** A module's code without its comments (a library's docs show localeCompare in examples); unparsable text is kept whole. */
async function withoutComments (text: string): Promise<string> {
  try {
    return (await transform(text, { loader: 'js', minifyWhitespace: true, legalComments: 'none', logLevel: 'silent' })).code
  } catch {
    return text
  }
}

/** The plugin: edits the listed modules as they load; fails the build if one never loaded or another module sorts by locale. */
export function codeUnitSorts (edits: readonly SortEdit[] = CODE_UNIT_SORTS, allowed: readonly string[] = LOCALE_SORTS_ALLOWED): Plugin {
  const modules = [...new Set(edits.map(e => e.module))]
  // only the edited files cross into this plugin, not every module of the bundle
  const filter = new RegExp(`[\\\\/]node_modules[\\\\/](${modules.map(m => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('/', '[\\\\/]')).join('|')})$`)
  return {
    name: 'code-unit-sorts',
    setup (build) {
      // the guard reads the bundle's inputs from esbuild's metafile
      build.initialOptions.metafile = true
      const seen = new Set<string>()
      build.onStart(() => { seen.clear() })
      build.onLoad({ filter }, async (args) => {
        const path = args.path.replaceAll('\\', '/')
        const module = modules.find(m => path.endsWith(`/node_modules/${m}`))
        if (module == null) return undefined
        seen.add(module)
        const source = await readFile(args.path, 'utf8')
        // resolveDir: the module's own imports resolve as before
        return { contents: rewriteSorts(module, source, edits.filter(e => e.module === module)), loader: 'js', resolveDir: dirname(args.path) }
      })
      build.onEnd(async (result) => {
        if (result.errors.length > 0) return undefined
        const missing = modules.filter(m => !seen.has(m))
        if (missing.length > 0) return { errors: [{ text: `not bundled any more: ${missing.join(', ')}; update scripts/code-unit-sorts.ts` }] }
        const workingDir = build.initialOptions.absWorkingDir ?? process.cwd()
        const inputs = Object.keys(result.metafile?.inputs ?? {})
        const unlisted = await unlistedLocaleSorts(inputs, async (p) => await readFile(resolve(workingDir, p), 'utf8').catch(() => ''), edits, allowed)
        if (unlisted.length > 0) return { errors: [{ text: `localeCompare or Intl.Collator in ${unlisted.join(', ')}: it loads ICU's collation tables (2.2 MiB); sort by code units, or list the module in scripts/code-unit-sorts.ts` }] }
        return undefined
      })
    }
  }
}
