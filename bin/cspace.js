#!/usr/bin/env -S node --max-semi-space-size=2
// Entry point of the `cspace` command: the CLI, bundled into one module by `npm run build`
// (scripts/bundle-cli.ts).
// The flag caps V8's young generation (32 MiB semi-spaces by default on 64-bit):
// the daemon allocates small, short-lived objects, and the default kept ~25 MiB
// of idle memory resident for nothing (docs/BENCHMARKS.md, footprint).
import('../dist/cspace.mjs').catch((err) => {
  // node:sqlite needs no flag from Node 22.13: an older node fails on the first import of it
  const hint = err.code === 'ERR_MODULE_NOT_FOUND'
    ? '; run `npm run build` first'
    : err.code === 'ERR_UNKNOWN_BUILTIN_MODULE' ? `; cspace needs Node.js 22.13 or newer, and this is ${process.version}` : ''
  process.stderr.write(`cspace: cannot start (${err.message})${hint}\n`)
  process.exit(1)
})
