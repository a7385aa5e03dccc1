// Bundles the `cspace` command (dist/src/cli/main.js and all it imports) into
// one minified module, dist/cspace.mjs, which bin/cspace.js runs. Why: loaded
// as ~1000 separate modules, an idle daemon kept ~15 MiB more V8 heap (their
// source text and code; docs/BENCHMARKS.md, "Idle memory") and every command
// started slower. The SDK (`cspace/sdk`) stays unbundled in dist/src/.
import { readFileSync, rmSync } from 'node:fs'
import { build } from 'esbuild'
import { codeUnitSorts } from './code-unit-sorts.js'

const OUTFILE = 'dist/cspace.mjs'

/** A bundle that failed a check is not left for bin/cspace.js to run (esbuild writes it before its plugins' last word). */
function refuse (): void {
  rmSync(OUTFILE, { force: true })
  rmSync(`${OUTFILE}.map`, { force: true })
}

const result = await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: OUTFILE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  // follows the compiled files' own maps back to src/*.ts: `node --enable-source-maps` shows TypeScript lines
  sourcemap: 'linked',
  // CommonJS dependencies call require(); an ES module has none of its own
  banner: { js: "import { createRequire as cspaceCreateRequire } from 'node:module'; const require = cspaceCreateRequire(import.meta.url);" },
  // the dependencies' licence notices go to dist/cspace.mjs.LEGAL.txt (one has a non-ASCII name, see below)
  legalComments: 'external',
  metafile: true,
  // the peer store's sorts without ICU's collation tables (code-unit-sorts.ts)
  plugins: [codeUnitSorts()],
  logLevel: 'warning'
}).catch((err: unknown) => {
  refuse()
  throw err
})
// Node decodes a module's source as UTF-16 if any byte is not ASCII, which doubles
// the 2.8 MiB the daemon keeps resident; esbuild escapes non-ASCII in strings but
// not in regular expressions or comments.
const text = readFileSync(OUTFILE)
const nonAscii = text.findIndex((byte) => byte > 0x7f)
if (nonAscii >= 0) {
  refuse()
  process.stderr.write(`${OUTFILE}: a non-ASCII byte at ${nonAscii} (…${text.subarray(Math.max(0, nonAscii - 60), nonAscii + 20).toString()}…); write it as \\u escape in the source\n`)
  process.exit(1)
}
const inputs = Object.keys(result.metafile.inputs).length
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint != null)?.bytes ?? 0
process.stdout.write(`${OUTFILE}: ${inputs} modules, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`)
