#!/usr/bin/env -S node --max-semi-space-size=2
// Entry point of the `cspace` command: the compiled CLI lives in dist/ (built by `npm run build`).
// The flag caps V8's young generation (32 MiB semi-spaces by default on 64-bit):
// the daemon allocates small, short-lived objects, and the default kept ~25 MiB
// of idle memory resident for nothing (docs/BENCHMARKS.md, footprint).
import('../dist/src/cli/main.js').catch((err) => {
  const hint = err.code === 'ERR_MODULE_NOT_FOUND' ? '; run `npm run build` first' : ''
  process.stderr.write(`cspace: cannot start (${err.message})${hint}\n`)
  process.exit(1)
})
