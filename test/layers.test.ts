import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { packageFile } from '../src/util/package-files.js'

/**
 * docs/ARCHITECTURE.md's layers, checked on the TypeScript sources: a lower
 * layer never imports a higher one (type-only imports included), and the
 * apps are built only on the SDK.
 */
const RANK: Record<string, number> = {
  util: 0,
  'errors.ts': 0,
  identity: 1,
  store: 2,
  contacts: 3,
  network: 4,
  keyserver: 4.5, // "4b": beside the network, below the sessions
  session: 5,
  daemon: 6,
  sdk: 7,
  apps: 8,
  cli: 9
}

const SRC = packageFile('src')

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

/** Relative module specifiers of a file: static, type-only, re-exports and dynamic import(). */
function relativeImports (source: string): string[] {
  const found: string[] = []
  for (const m of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) found.push(m[1])
  return found
}

/** The top-level folder (or root file, as its .ts) of src/ that a path belongs to. */
function layerOf (path: string): string {
  return relative(SRC, path).split(sep)[0].replace(/\.js$/, '.ts')
}

interface Edge { from: string, to: string, where: string }

function importEdges (): Edge[] {
  return sourceFiles(SRC).flatMap(file => relativeImports(readFileSync(file, 'utf8')).map(spec => ({
    from: layerOf(file),
    to: layerOf(resolve(dirname(file), spec)),
    where: `${relative(SRC, file)} imports ${spec}`
  })))
}

test('the import scanner sees static, type-only, re-exported and dynamic imports', () => {
  const source = [
    "import { a } from '../x/a.js'",
    "import type { B } from './b.js'",
    "export { c } from '../../y/c.js'",
    "const d = await import('../z/d.js')",
    "import '../side-effect.js'",
    "import { e } from 'node:fs'"
  ].join('\n')
  assert.deepEqual(relativeImports(source), ['../x/a.js', './b.js', '../../y/c.js', '../z/d.js', '../side-effect.js'])
})

test('every folder of src/ has a layer, and no import reaches a higher layer', () => {
  const edges = importEdges()
  assert.ok(edges.length > 300, `only ${edges.length} imports found: is the scanner broken?`)
  const unranked = [...new Set(edges.flatMap(e => [e.from, e.to]))].filter(l => RANK[l] == null)
  assert.deepEqual(unranked, [], 'a folder of src/ with no layer: add it to docs/ARCHITECTURE.md and to RANK')
  const upward = edges.filter(e => RANK[e.to] > RANK[e.from]).map(e => e.where)
  assert.deepEqual(upward, [])
})

test('the apps are built only on the SDK', () => {
  const allowed = new Set(['apps', 'sdk', 'util', 'errors.ts'])
  const beyond = importEdges().filter(e => e.from === 'apps' && !allowed.has(e.to)).map(e => e.where)
  assert.deepEqual(beyond, [])
})
