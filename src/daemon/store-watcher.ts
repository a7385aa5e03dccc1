import type { Store } from '../store/index.js'

/**
 * Calls `onChange` when another process commits to the profile's store:
 * `cspace contacts` and `cspace expose` write it directly (the contacts also
 * while the daemon runs), and live clients (the web UI) should see that
 * without a reload. Polls SQLite's data_version, one cheap pragma per interval.
 */
export function watchStore (store: Store, onChange: () => void, intervalMs = 1000): () => void {
  let last = store.dataVersion()
  const timer = setInterval(() => {
    let now: number
    try {
      now = store.dataVersion()
    } catch {
      return // closing
    }
    if (now !== last) {
      last = now
      onChange()
    }
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
