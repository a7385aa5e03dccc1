// Loaded into a cspace process with `--import` (NODE_OPTIONS) by tests:
// appends the stack of each String.prototype.localeCompare call to the file
// named by CSPACE_TEST_LOCALE_COMPARE_LOG, first calls only, then still
// compares. Why a test cares: scripts/code-unit-sorts.ts.
import { appendFileSync } from 'node:fs'

const log = process.env.CSPACE_TEST_LOCALE_COMPARE_LOG
const MAX_RECORDED = 5
let recorded = 0
const localeCompare = String.prototype.localeCompare
String.prototype.localeCompare = function (this: string, ...args: Parameters<string['localeCompare']>): number {
  if (log != null && recorded < MAX_RECORDED) {
    recorded++
    appendFileSync(log, `${new Error('localeCompare called').stack ?? ''}\n\n`)
  }
  return localeCompare.apply(this, args)
}
