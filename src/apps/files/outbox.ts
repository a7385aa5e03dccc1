import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { UsageError } from '../../errors.js'
import type { ContactDirectory } from '../host/index.js'
import { sendFiles, type SendEvent, type SendResult } from './sender.js'
import { buildManifest, transferId, type BuiltManifest } from './manifest.js'
import { TransferCancelled, TransferNotFound } from './errors.js'

/** A transfer this host is sending: the web UI's, and `cspace send`'s while the daemon runs its apps. */
export interface OutgoingView {
  id: string
  to: string
  toUserId: string
  files: string[]
  totalBytes: number
  sentBytes: number
  rate: number
  eta: number | null
  state: 'connecting' | 'waiting' | 'sending' | 'reconnecting' | 'done' | 'failed' | 'cancelled'
  error: string | null
  /** The transfer's ID as the receiver lists it, once offered. */
  transfer: string | null
  saved: string[]
}

/** Finished entries kept for the page to show (the oldest go first). */
const KEEP_FINISHED = 100
/** Paths one send names (a directory counts as one, however much it holds). */
export const MAX_SEND_PATHS = 1000

/**
 * The sending side of file transfer, beside the node. `cspace send` asks it
 * to send the user's paths (`sendLocal`). The web UI cannot name paths: the
 * page uploads each dropped file into the app's uploads directory (the
 * daemon's POST /v1/apps/files/uploads), then asks for it to be sent
 * (`send`); only such staged files can be sent that way, and each is removed
 * once its transfer ends, however it ends. Progress goes to subscribed front
 * ends as `outgoing` events.
 */
export class Outbox {
  private readonly entries = new Map<string, { view: OutgoingView, abort: AbortController, staged: string[] }>()
  /** `cspace send`s running, by recipient and files (`sameFiles`): a second send of the same files follows the first. */
  private readonly local = new Map<string, SharedSend>()

  constructor (private readonly home: string, private readonly uploads: string, private readonly contacts: ContactDirectory,
    private readonly emit: (view: OutgoingView) => void) {
    // nothing refers to files staged before a restart: their sends ended with the old process
    rmSync(uploads, { recursive: true, force: true })
    mkdirSync(uploads, { recursive: true, mode: 0o700 })
  }

  /** {to, paths} with paths the daemon's uploads returned → the new outgoing transfer. */
  async send (to: string, paths: unknown): Promise<OutgoingView> {
    if (!Array.isArray(paths) || paths.length === 0 || paths.length > MAX_SEND_PATHS || !paths.every(p => typeof p === 'string')) {
      throw new UsageError(`"paths" must list 1 to ${MAX_SEND_PATHS} uploaded files`)
    }
    const staged = (paths as string[]).map(p => this.checkStaged(p))
    return (await this.start(to, staged, { staged: true })).view
  }

  /**
   * `cspace send` from a terminal: any of the user's files and directories
   * (absolute paths), sent here beside the node rather than through the
   * application port. `onEvent` gets what the command prints; the transfer
   * stops (resumable) when `signal` aborts — the command ended.
   *
   * The same files sent to the same user again while a send runs (a second
   * terminal, a retried script) follow the running transfer: two transfers
   * with one ID would each replace the other's connection at the receiver
   * until one finished. A follower gets an `attached` event, then what the
   * transfer has said so far and all it says next; the transfer stops when
   * every command following it has ended. It runs with the first command's
   * settings (its --retry-for).
   */
  async sendLocal (to: string, paths: unknown, options: { onEvent: (e: SendEvent) => void, signal: AbortSignal, retryForMs?: number }): Promise<SendResult> {
    if (!Array.isArray(paths) || paths.length === 0 || paths.length > MAX_SEND_PATHS || !paths.every(p => typeof p === 'string' && isAbsolute(p))) {
      throw new UsageError(`"paths" must list 1 to ${MAX_SEND_PATHS} absolute paths`)
    }
    const { key, built } = sameFiles((await this.contacts.resolve(to)).userId, paths as string[])
    const running = key != null ? this.local.get(key) : undefined
    if (running != null) return await running.attach(options.onEvent, options.signal)
    const shared = new SharedSend()
    const abort = new AbortController()
    shared.onIdle = () => {
      // a send of the same files from now on starts anew (a resume), rather than following one being stopped
      if (key != null && this.local.get(key) === shared) this.local.delete(key)
      abort.abort()
    }
    if (key != null) this.local.set(key, shared)
    const followed = shared.follow(options.onEvent, options.signal)
    const started = this.start(to, paths as string[], { staged: false, onEvent: (e) => shared.emit(e), signal: abort.signal, retryForMs: options.retryForMs, built })
    shared.finish(started.then(async ({ done }) => await done).finally(() => { if (key != null && this.local.get(key) === shared) this.local.delete(key) }))
    return await followed
  }

  private async start (to: string, paths: string[], options: { staged: boolean, onEvent?: (e: SendEvent) => void, signal?: AbortSignal, retryForMs?: number, built?: BuiltManifest }): Promise<{ view: OutgoingView, done: Promise<SendResult> }> {
    const { userId, name } = await this.contacts.resolve(to)
    const abort = new AbortController()
    options.signal?.addEventListener('abort', () => abort.abort(), { once: true })
    if (options.signal?.aborted === true) abort.abort() // while the contact was being resolved
    const view: OutgoingView = {
      id: `out-${randomBytes(8).toString('hex')}`, to: name ?? userId, toUserId: userId, files: paths.map(p => basename(p)),
      totalBytes: 0, sentBytes: 0, rate: 0, eta: null, state: 'connecting', error: null, transfer: null, saved: []
    }
    this.entries.set(view.id, { view, abort, staged: options.staged ? paths : [] })
    this.emit(view)
    const update = (e: SendEvent): void => {
      options.onEvent?.(e)
      if (e.event === 'offer') Object.assign(view, { transfer: e.id, totalBytes: e.totalBytes, state: 'waiting' })
      else if (e.event === 'accepted') Object.assign(view, { state: 'sending', sentBytes: e.resumedBytes })
      else if (e.event === 'progress') Object.assign(view, { state: 'sending', sentBytes: e.bytes, rate: e.rate, eta: e.eta })
      else if (e.event === 'reconnecting') Object.assign(view, { state: 'reconnecting', error: e.reason })
      else if (e.event === 'done') Object.assign(view, { state: 'done', sentBytes: e.totalBytes, saved: e.saved, eta: 0, error: null })
      else return
      this.emit(view)
    }
    // the name as given: the sender's messages say it ("bob declined the files")
    const done = sendFiles(to, paths, { home: this.home, onEvent: update, signal: abort.signal, retryForMs: options.retryForMs, built: options.built })
    done.catch((err: Error & { code?: string }) => {
      Object.assign(view, { state: err.code === 'TRANSFER_CANCELLED' ? 'cancelled' : 'failed', error: err.message, rate: 0, eta: null })
      this.emit(view)
    }).finally(() => this.finished(view.id))
    return { view, done }
  }

  list (): OutgoingView[] {
    return [...this.entries.values()].map(e => e.view)
  }

  /** Stops a transfer in progress; the receiver keeps what it has. */
  cancel (id: unknown): OutgoingView {
    const entry = this.entries.get(String(id))
    if (entry == null) throw new TransferNotFound(String(id))
    entry.abort.abort()
    return entry.view
  }

  /** Forgets a finished entry. */
  dismiss (id: unknown): { removed: string } {
    const entry = this.entries.get(String(id))
    if (entry == null) throw new TransferNotFound(String(id))
    if (!isFinished(entry.view)) throw new UsageError('the transfer is still running; cancel it first')
    this.entries.delete(entry.view.id)
    return { removed: entry.view.id }
  }

  stop (): void {
    for (const e of this.entries.values()) e.abort.abort()
  }

  /** A path must be a file the daemon staged: `uploads/<dir>/<name>`, nothing else on the disk. */
  private checkStaged (path: string): string {
    const full = resolve(path)
    const rel = relative(this.uploads, full).split(sep)
    if (rel.length !== 2 || rel.some(p => p === '' || p === '..')) throw new UsageError(`${JSON.stringify(path.slice(0, 200))} is not an uploaded file; upload it first (POST /v1/apps/files/uploads)`)
    return full
  }

  private finished (id: string): void {
    const entry = this.entries.get(id)
    if (entry == null) return
    for (const p of entry.staged) rmSync(dirname(p), { recursive: true, force: true })
    const done = [...this.entries.values()].filter(e => isFinished(e.view))
    for (const e of done.slice(0, Math.max(0, done.length - KEEP_FINISHED))) this.entries.delete(e.view.id)
  }
}

/**
 * One `cspace send`'s transfer and the commands following it: each gets its
 * events and its result. A command that ends (its signal aborts) stops
 * following; when the last one has, `onIdle` stops the transfer.
 */
class SharedSend {
  onIdle: () => void = () => {}
  readonly result: Promise<SendResult>
  private readonly followers = new Set<(e: SendEvent) => void>()
  /** What a late follower is shown first: the offer, the latest state, the latest progress. */
  private readonly replay = new Map<'offer' | 'state' | 'progress', SendEvent>()
  private end: (result: Promise<SendResult>) => void = () => {}

  constructor () {
    this.result = new Promise((resolve, reject) => { this.end = (r) => { r.then(resolve, reject) } })
    this.result.catch(() => {}) // each follower gets the failure; none may be left to take it
  }

  finish (result: Promise<SendResult>): void {
    this.end(result)
  }

  emit (e: SendEvent): void {
    this.replay.set(e.event === 'offer' || e.event === 'progress' ? e.event : 'state', e)
    for (const f of this.followers) f(e)
  }

  /** A second command sending the same files: told so, then shown what the transfer has said so far. */
  async attach (onEvent: (e: SendEvent) => void, signal: AbortSignal): Promise<SendResult> {
    onEvent({ event: 'attached', id: (this.replay.get('offer') as { id: string } | undefined)?.id ?? '' })
    for (const e of this.replay.values()) onEvent(e)
    return await this.follow(onEvent, signal)
  }

  async follow (onEvent: (e: SendEvent) => void, signal: AbortSignal): Promise<SendResult> {
    this.followers.add(onEvent)
    let leave = (): void => {}
    const left = new Promise<never>((_resolve, reject) => {
      leave = () => {
        this.followers.delete(onEvent)
        if (this.followers.size === 0) this.onIdle()
        reject(new TransferCancelled())
      }
    })
    if (signal.aborted) leave()
    signal.addEventListener('abort', leave, { once: true })
    try {
      return await Promise.race([this.result, left])
    } finally {
      signal.removeEventListener('abort', leave)
      this.followers.delete(onEvent)
    }
  }
}

/**
 * Which files to whom, as a transfer ID tells them apart, and the manifest
 * it was read from (the send uses it: the tree is walked once). Neither if
 * the files cannot be read: the send itself then says why.
 */
function sameFiles (toUserId: string, paths: string[]): { key?: string, built?: BuiltManifest } {
  try {
    const built = buildManifest(paths)
    return { key: `${toUserId} ${transferId('', built.manifest)}`, built }
  } catch {
    return {}
  }
}

function isFinished (v: OutgoingView): boolean {
  return v.state === 'done' || v.state === 'failed' || v.state === 'cancelled'
}

