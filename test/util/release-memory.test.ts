import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { ROOT } from '../helpers/cli.js'

// Run in a process of its own: it needs --expose-gc, and the test runner's
// own heap would blur the figures.
const PROBE = `
import { readFileSync } from 'node:fs'
import { releaseFreedMemory } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'util', 'release-memory.js'))}
const anonKiB = () => Number(readFileSync('/proc/self/status', 'utf8').match(/^RssAnon:\\s+(\\d+)/m)[1])
// 32 MiB in 32 KiB buffers (under glibc's mmap threshold, so on its heap),
// touched so they are resident; every other one is then freed, leaving holes
// between live ones that glibc does not give back by itself
const kept = [], dropped = []
for (let i = 0; i < 1024; i++) (i % 2 === 0 ? kept : dropped).push(new Uint8Array(32 * 1024).fill(1))
dropped.length = 0
for (let i = 0; i < 4; i++) { globalThis.gc(); await new Promise((resolve) => setTimeout(resolve, 20)) }
const before = anonKiB()
const released = releaseFreedMemory()
const after = anonKiB()
process.stdout.write(JSON.stringify({ released, before, after, kept: kept.length }))
`

test('freed memory between live allocations goes back to the system', { skip: process.platform !== 'linux' }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE])
  const r = JSON.parse(stdout) as { released: boolean, before: number, after: number }
  assert.equal(r.released, true, 'the native addon is built and released pages')
  // 16 MiB were freed in holes; most of it must leave the resident set
  assert.ok(r.before - r.after > 10 * 1024, `RssAnon ${r.before} → ${r.after} KiB`)
})
