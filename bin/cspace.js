#!/usr/bin/env node
// Entry point of the `cspace` command: the compiled CLI lives in dist/ (built by `npm run build`).
import('../dist/src/cli/main.js').catch((err) => {
  const hint = err.code === 'ERR_MODULE_NOT_FOUND' ? '; run `npm run build` first' : ''
  process.stderr.write(`cspace: cannot start (${err.message})${hint}\n`)
  process.exit(1)
})
