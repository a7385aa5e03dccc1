import { rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { finishDelivery } from './delivery.js'
import { downloadsOf } from './partial.js'
import type { FilesStore } from './store.js'

/**
 * A transfer's partial directory outlives it only until the daemon's next
 * start: what a daemon stopped part way (killed, crashed) leaves is finished
 * here, before any connection is served.
 */
export async function tidyAfterStop (store: FilesStore): Promise<void> {
  for (const row of store.list()) {
    if (row.partialDir == null) continue
    if (row.state === 'accepted' || row.state === 'failed') {
      // a finished transfer stopped while moving into the downloads directory: the move is finished, not received again
      try { finishDeliveryBegun(store, row.id, row.partialDir) } catch {} // then it is finished when sent again, or says why not
    } else {
      // complete (stopped before its directory went) or declined (it never resumes)
      await discardPartial(store, row.id, row.partialDir)
    }
  }
}

/**
 * Finishes and records a delivery begun in `partialDir` and not ended (a
 * stop, or a failure part way: a re-send must not deliver again what had
 * moved); the names saved, or null if none had begun. Throws what stops it.
 */
export function finishDeliveryBegun (store: FilesStore, id: string, partialDir: string): string[] | null {
  const saved = finishDelivery(partialDir, downloadsOf(partialDir))
  if (saved != null) recordDelivered(store, id, saved, partialDir)
  return saved
}

/** Records a delivered transfer, then deletes its partial directory: a stop or a failure in between leaves that to tidyAfterStop. */
export function recordDelivered (store: FilesStore, id: string, saved: string[], partialDir: string): void {
  store.update(id, { state: 'complete', saved, savedIn: downloadsOf(partialDir), error: null })
  try {
    rmSync(partialDir, { recursive: true, force: true })
    store.update(id, { partialDir: null })
  } catch {} // delivered all the same
}

/** Deletes what had arrived of a transfer that will not resume. */
export async function discardPartial (store: FilesStore, id: string, partialDir: string): Promise<void> {
  try {
    await rm(partialDir, { recursive: true, force: true })
    store.update(id, { partialDir: null })
  } catch {} // left for `cspace transfers remove`, which says why it cannot
}
