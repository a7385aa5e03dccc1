import { accessSync, constants, existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { appLayout, listen } from '../../sdk/index.js'
import { UsageError } from '../../errors.js'
import { ContactDirectory, serveControl, type AppHost, type AppHostStarter, type ControlHandler } from '../host/index.js'
import { FilesStore, type TransferRow } from './store.js'
import { Receiver } from './receiver.js'
import { tidyAfterStop } from './leftovers.js'
import { TransferNotFound } from './errors.js'
import { totalBytes } from './manifest.js'
import { Outbox } from './outbox.js'

export const FILES_SERVICE = 'files'

/** The longest receive idle timeout `transfers config --idle-timeout` takes: a day. */
const MAX_IDLE_TIMEOUT_SECONDS = 86_400

/** A transfer as front ends see it (`cspace transfers --json`). */
export interface TransferView {
  id: string
  from: string
  fromUserId: string
  state: TransferRow['state']
  error: string | null
  files: number
  totalBytes: number
  receivedBytes: number
  resumedBytes: number
  sessionBytes: number
  duplicateBytes: number
  rate: number
  /** A connection from the sender carries it now; false: it waits for the sender to send again (its retries, or the same command re-run). */
  connected: boolean
  paths: string[]
  saved: string[]
  /** The directory `saved` is in (null until complete; also for one completed by a daemon from before this was kept). */
  savedIn: string | null
  partialDir: string | null
}

/**
 * A page names no path on this machine: requests through the daemon's web
 * bridge (marked `via: "web"` by the bridge) may not use operations that do.
 */
function refuseFromPage (params: Record<string, unknown>, message: string): void {
  if (params.via === 'web') throw new UsageError(message, 'FORBIDDEN')
}

/**
 * The background part of file transfer, run by `cspace daemon`: receives on
 * the `files` service and answers `cspace receive` / `cspace transfers` on
 * the control socket (list, accept, decline, remove, config, subscribe), and
 * sends what the web UI uploaded (send, outbox, cancel, dismiss: outbox.ts).
 */
export const startFilesHost: AppHostStarter = async ({ home }): Promise<AppHost> => {
  const store = FilesStore.open(home)
  const contacts = new ContactDirectory({ home })
  let broadcast: (event: string, data: unknown) => void = () => {}
  const receiver = new Receiver(store, (event, data) => broadcast(event, data))
  await tidyAfterStop(store)
  const outbox = new Outbox(home, appLayout('files', { home }).uploads, contacts, (view) => broadcast('outgoing', view))
  // bytes held by a transfer no connection has touched since the daemon started: from its chunk log (40 bytes a chunk)
  const held = (row: TransferRow): number => {
    if (row.partialDir == null) return 0
    try { return Math.min(row.totalBytes, Math.floor(statSync(join(row.partialDir, 'chunks.log')).size / 40) * row.chunkSize) } catch { return 0 }
  }
  const view = (row: TransferRow): TransferView => {
    const s = receiver.stats(row.id)
    return {
      id: row.id,
      from: row.senderName ?? row.senderUserId,
      fromUserId: row.senderUserId,
      state: row.state,
      error: row.error,
      files: row.fileCount,
      totalBytes: row.totalBytes,
      receivedBytes: row.state === 'complete' ? row.totalBytes : s?.receivedBytes ?? held(row),
      resumedBytes: s?.resumedBytes ?? 0,
      sessionBytes: s?.sessionBytes ?? 0,
      duplicateBytes: s?.duplicateBytes ?? 0,
      rate: s?.rate ?? 0,
      connected: receiver.connected(row.id),
      paths: row.paths,
      saved: row.saved,
      savedIn: row.savedIn,
      partialDir: row.partialDir
    }
  }
  const find = (params: Record<string, unknown>): TransferRow => {
    const id = typeof params.transfer === 'string' ? params.transfer : ''
    const row = store.find(id)
    if (row == null) throw new TransferNotFound(id)
    return row
  }
  const handlers: Record<string, ControlHandler> = {
    list: () => store.list().map(view),
    get: (p) => view(find(p)),
    accept: (p) => { const row = find(p); receiver.decide(row, true); return view(store.get(row.id)!) },
    decline: async (p) => { const row = find(p); receiver.decide(row, false); await receiver.discardDeclined(row.id); return view(store.get(row.id)!) },
    remove: async (p) => {
      const row = find(p)
      await receiver.remove(row.id, () => {
        // read again: a connection may have set where its part files go meanwhile
        const partialDir = store.get(row.id)?.partialDir
        if (partialDir != null) rmSync(partialDir, { recursive: true, force: true })
        store.remove(row.id)
      })
      // other front ends showing it (another page, a watching terminal) drop it too
      broadcast('transfer:removed', { id: row.id })
      return { removed: row.id }
    },
    config: async (p) => {
      const s = store.settings()
      if (p.downloads !== undefined) {
        refuseFromPage(p, 'the downloads directory is set from a terminal: cspace transfers config --downloads DIR')
        if (typeof p.downloads !== 'string' || !isAbsolute(p.downloads)) throw new UsageError('--downloads needs an absolute directory path')
        s.downloads = usableDirectory(resolve(p.downloads))
      }
      const names = (v: unknown): string[] => Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string' && n.length > 0 && n.length <= 64) : []
      // a typo must not silently accept nobody's files: each name has to be a contact now
      for (const n of names(p.acceptFrom)) await contacts.resolve(n)
      for (const n of names(p.acceptFrom)) if (!s.acceptFrom.some(a => a.toLowerCase() === n.toLowerCase())) s.acceptFrom.push(n)
      const ask = new Set(names(p.askFrom).map(n => n.toLowerCase()))
      s.acceptFrom = s.acceptFrom.filter(a => !ask.has(a.toLowerCase()))
      if (p.idleTimeoutSeconds !== undefined) {
        const t = p.idleTimeoutSeconds
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_IDLE_TIMEOUT_SECONDS) throw new UsageError(`--idle-timeout takes whole seconds from 1 to ${MAX_IDLE_TIMEOUT_SECONDS}`)
        s.idleTimeoutSeconds = t
      }
      store.saveSettings(s)
      return s
    },
    /** {to, paths}: paths the daemon staged (POST /v1/apps/files/uploads) → OutgoingView */
    send: async (p) => await outbox.send(typeof p.to === 'string' ? p.to : '', p.paths),
    /**
     * {to, paths, retryForMs?} from `cspace send`: the user's own files and directories (absolute paths).
     * Never from a page (the daemon's web bridge marks its requests via: 'web'). `send` events go to this
     * front end only; the answer comes when the transfer ends, and the transfer stops if the front end goes.
     */
    sendPaths: async (p, peer) => {
      refuseFromPage(p, 'a page sends only files it uploaded (op "send")')
      const retryForMs = p.retryForMs
      if (retryForMs !== undefined && (typeof retryForMs !== 'number' || !(retryForMs >= 0) || retryForMs > 7 * 24 * 3600_000)) throw new UsageError('"retryForMs" must be a number of milliseconds up to a week')
      const stop = new AbortController()
      peer.onClose(() => stop.abort())
      return await outbox.sendLocal(typeof p.to === 'string' ? p.to : '', p.paths, { onEvent: (e) => peer.emit('send', e), signal: stop.signal, retryForMs })
    },
    outbox: () => outbox.list(),
    cancel: (p) => outbox.cancel(p.outgoing),
    dismiss: (p) => { const r = outbox.dismiss(p.outgoing); broadcast('outgoing:removed', r); return r },
    subscribe: (_p, peer) => { peer.subscribed = true; return { transfers: store.list().map(view), outgoing: outbox.list() } }
  }
  const control = await serveControl('files', handlers, home)
  broadcast = (event, data) => {
    // rows go out as views, so front ends see one shape
    const out = event === 'transfer' && data != null ? view(data as TransferRow) : data
    control.broadcast(event, out)
  }
  const listener = await listen(FILES_SERVICE, (socket, caller) => receiver.handle(socket, caller), { home })
  return {
    app: 'files',
    stop: async () => {
      listener.close()
      outbox.stop()
      await receiver.closeAll()
      await control.close()
      store.close()
    }
  }
}

export { totalBytes }

/**
 * The downloads directory, created if missing, once it is known to take
 * files: a mistyped one is refused here, not reported later to a sender
 * (as a full disk, when it was under /proc).
 */
function usableDirectory (dir: string): string {
  try {
    makeDirectory(dir)
    if (!statSync(dir).isDirectory()) throw new Error('not a directory')
    accessSync(dir, constants.W_OK | constants.X_OK)
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new UsageError(`cannot save downloads in ${dir} (${reason}); pick a directory you can write to`)
  }
  return dir
}

/** mkdir -p, one level at a time: Node's recursive mkdirSync never returns for a path under /proc. */
function makeDirectory (dir: string): void {
  const missing: string[] = []
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d)
    if (dirname(d) === d) break
  }
  for (const d of missing) mkdirSync(d)
}
