// Gives memory the process has freed back to the system (native/memory.c:
// glibc's malloc_trim). glibc returns only the top of its heap by itself, so
// what start-up's parsing and compiling freed between live allocations stayed
// resident in an idle daemon (~15 MiB with the CLI's bundle; docs/BENCHMARKS.md).
import { loadNativeAddon } from './package-files.js'

/** When a daemon process gives freed memory back: once start-up has settled, then periodically. */
export const RELEASE_AFTER_START_MS = 10_000
export const RELEASE_EVERY_MS = 30_000

interface MemoryAddon { releaseFreedMemory: () => boolean }

// not built (npm ci builds it) or not this platform: memory is only kept longer
const addon = loadNativeAddon<MemoryAddon>('memory')

/** Returns freed C heap pages to the system now; false if there were none or the addon is not built. */
export function releaseFreedMemory (): boolean {
  return addon?.releaseFreedMemory() ?? false
}

/**
 * Releases freed memory `firstMs` after now and every `everyMs` after that,
 * without keeping the process alive; returns the function that stops it.
 * A release blocks the event loop while it runs: ~12 ms to return 16 MiB
 * freed in holes, ~0.4 ms when there is little to return (measured here).
 */
export function releaseFreedMemoryPeriodically (firstMs: number, everyMs: number): () => void {
  let interval: NodeJS.Timeout | undefined
  const first = setTimeout(() => {
    releaseFreedMemory()
    interval = setInterval(releaseFreedMemory, everyMs).unref()
  }, firstMs).unref()
  return () => {
    clearTimeout(first)
    clearInterval(interval)
  }
}
