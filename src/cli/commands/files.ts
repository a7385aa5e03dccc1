import { Command } from 'commander'
import cliProgress from 'cli-progress'
import { resolve } from 'node:path'
import { ControlClient } from '../../apps/host/index.js'
import { DEFAULT_IDLE_TIMEOUT_SECONDS, MAX_SEND_PATHS, sendFiles, type SendEvent, type TransferView } from '../../apps/files/index.js'
import { CspaceError, UsageError } from '../../errors.js'

const MiB = 1024 * 1024

function human (bytes: number): string {
  if (bytes < 1024) return `${bytes} B` // not "0.0 KiB" for a small file
  return bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(2)} GiB` : bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`
}

function eta (seconds: number | null): string {
  if (seconds == null || !Number.isFinite(seconds)) return '--'
  const s = Math.round(seconds)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor(s % 3600 / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`
}

/** A progress bar on stderr (only when it is a terminal), bytes, rate and ETA. */
function progressBar (): { update: (bytes: number, total: number, rate: number, label: string) => void, stop: () => void } {
  let bar: cliProgress.SingleBar | undefined
  return {
    update: (bytes, total, rate, label) => {
      if (!process.stderr.isTTY) return
      if (bar == null) {
        bar = new cliProgress.SingleBar({ format: '{label} [{bar}] {percentage}% {done}/{size} {speed}/s ETA {left}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
        bar.start(total, 0, { label, done: human(0), size: human(total), speed: human(0), left: '--' })
      }
      bar.setTotal(total)
      bar.update(bytes, { label, done: human(bytes), size: human(total), speed: human(rate), left: eta(rate > 0 ? (total - bytes) / rate : null) })
    },
    stop: () => { bar?.stop() }
  }
}

async function openHost (): Promise<ControlClient> {
  return await ControlClient.open('files')
}

function printList (list: TransferView[]): void {
  if (list.length === 0) { process.stdout.write('no transfers\n'); return }
  for (const t of list) {
    const what = t.files === 1 ? t.paths[0] : `${t.files} files (${[...new Set(t.paths.map(p => p.split('/')[0]))].slice(0, 3).join(', ')})`
    const progress = t.state === 'accepted' ? ` ${Math.floor(t.receivedBytes * 100 / Math.max(1, t.totalBytes))}%${t.connected ? '' : ', waiting for the sender'}` : ''
    const tail = t.state === 'complete' ? ` → ${savedWhere(t)}` : t.error != null ? ` (${t.error})` : ''
    process.stdout.write(`${t.id}  ${t.state}${progress}  from ${t.from}  ${what}  ${human(t.totalBytes)}${tail}\n`)
  }
}

/** What a complete transfer saved, and where. */
function savedWhere (t: TransferView): string {
  return `${someOf(t.saved)}${t.savedIn != null ? ` in ${t.savedIn}` : ''}`
}

/** The first few names, and how many more (`--json` lists them all): a line per transfer, however many files it saved. */
function someOf (names: string[], shown = 5): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`
}

/**
 * Follows transfers on the host until `until` says stop: progress bars (or
 * JSON lines with --json). Resolves with the final views; a transfer removed
 * meanwhile (`transfers remove`, a page's Clear) joins `removed` and keeps
 * its last view.
 */
async function follow (client: ControlClient, json: boolean, until: (t: Map<string, TransferView>, removed: Set<string>) => boolean): Promise<Map<string, TransferView>> {
  const state = new Map<string, TransferView>()
  const removed = new Set<string>()
  const bars = new Map<string, ReturnType<typeof progressBar>>()
  // `until` is asked only once the host's list is in: before, a transfer missing from `state` may just not be known yet
  let listed = false
  return await new Promise((resolve, reject) => {
    client.onEvent((event, data) => {
      if (json) process.stdout.write(JSON.stringify({ event, data }) + '\n')
      if (event === 'transfer') {
        const t = data as TransferView
        state.set(t.id, t)
        if (!json && !process.stderr.isTTY) printList([t]) // no bars without a terminal: a line per change
      }
      if (event === 'transfer:removed') {
        const id = (data as { id: string }).id
        removed.add(id)
        bars.get(id)?.stop()
        bars.delete(id)
        if (!json && !process.stderr.isTTY) process.stdout.write(`${id}  removed\n`)
      }
      if (event === 'progress' && !json) {
        const p = data as { id: string, receivedBytes: number, totalBytes: number, rate: number }
        if (removed.has(p.id)) return
        let bar = bars.get(p.id)
        if (bar == null) { bar = progressBar(); bars.set(p.id, bar) }
        bar.update(p.receivedBytes, p.totalBytes, p.rate, p.id.slice(0, 8))
      }
      if (listed && until(state, removed)) { for (const b of bars.values()) b.stop(); resolve(state) }
    })
    client.request<{ transfers: TransferView[] }>('subscribe').then((r) => {
      for (const t of r.transfers) state.set(t.id, t)
      listed = true
      if (until(state, removed)) resolve(state)
    }, reject)
    client.closed.then(() => reject(new UsageError('the files service went away (did the daemon stop?)', 'APP_HOST_GONE')), () => {})
  })
}

/**
 * Sends through the files app beside the node when the daemon runs it: the
 * bytes then go from the file to the network inside the daemon, not through
 * this process and the application port. With the apps off (`--no-apps`)
 * this process sends them itself. Ending this command (Ctrl-C) stops the
 * transfer either way; running it again resumes.
 */
async function sendThroughHost (user: string, paths: string[], retryForMs: number, onEvent: (e: SendEvent) => void): Promise<{ saved: string[] }> {
  let client: ControlClient
  try {
    client = await openHost()
  } catch (err) {
    if ((err as { code?: string }).code !== 'APP_HOST_NOT_RUNNING') throw err
    return await sendFiles(user, paths, { onEvent, retryForMs })
  }
  try {
    client.onEvent((event, data) => { if (event === 'send') onEvent(data as SendEvent) })
    return await client.request<{ saved: string[] }>('sendPaths', { to: user, paths, retryForMs })
  } catch (err) {
    // the daemon sending them stopped: what arrived stays with the receiver
    if ((err as { code?: string }).code === 'APP_HOST_GONE') throw new CspaceError('APP_HOST_GONE', 'the daemon stopped while sending; start it again and run the same `cspace send` to resume where it stopped')
    throw err
  } finally {
    client.close()
  }
}

/** `cspace send`, `cspace receive`, `cspace transfers …`: the file-transfer app's front end. */
export function registerFilesCommands (program: Command): void {
  program.command('send <user> <paths...>')
    .description('send files and directories to USER (a contact name or user ID); resumes if run again')
    .option('--json', 'progress as JSON lines on stdout')
    .option('--retry-for <seconds>', 'keep retrying this long while USER cannot be reached', '600')
    .action(async (user: string, paths: string[], opts: { json?: boolean, retryFor: string }) => {
      const retryFor = Number(opts.retryFor)
      if (!Number.isFinite(retryFor) || retryFor < 0) throw new UsageError('--retry-for needs a number of seconds')
      if (paths.length > MAX_SEND_PATHS) throw new UsageError(`at most ${MAX_SEND_PATHS} paths at once (${paths.length} given); send the directory that holds them instead`)
      const bar = progressBar()
      let following = false
      const onEvent = (e: SendEvent): void => {
        if (e.event === 'attached') following = true
        if (opts.json === true) { process.stdout.write(JSON.stringify(e) + '\n'); return }
        if (e.event === 'attached') process.stderr.write(`another \`cspace send\` is already sending these files to ${user}; showing its progress\n`)
        else if (e.event === 'waiting') process.stderr.write(`waiting for ${user} to accept (transfer ${e.id}: \`cspace receive\` on their side)…\n`)
        else if (e.event === 'accepted' && e.resumedBytes > 0) process.stderr.write(`resuming: ${human(e.resumedBytes)} already there\n`)
        else if (e.event === 'progress') bar.update(e.bytes, e.totalBytes, e.rate, `to ${user}`)
        // the reason says which it was: not reachable yet, or the connection lost on the way
        else if (e.event === 'reconnecting') process.stderr.write(`${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(1)} s\n`)
      }
      // Ctrl-C ends the transfer (the host cancels it when this client goes): say how to pick it up again
      process.once('SIGINT', () => {
        bar.stop()
        process.stderr.write(following
          ? '\ncspace: stopped following; the transfer goes on while the other `cspace send` runs (run this again to resume otherwise)\n'
          : '\ncspace: stopped; run the same `cspace send` again to resume where it stopped\n')
        process.exit(130)
      })
      try {
        const r = await sendThroughHost(user, paths.map(p => resolve(p)), retryFor * 1000, onEvent)
        bar.stop()
        if (opts.json !== true) process.stdout.write(`sent to ${user}: ${someOf(r.saved)}\n`)
      } finally {
        bar.stop()
      }
    })

  program.command('receive [id]')
    .description('accept the waiting offers (or transfer ID; if none waits, the next one) and show progress until done')
    .option('--json', 'events as JSON lines on stdout')
    .option('--accept-from <name>', 'from now on accept files from contact NAME without asking (repeatable; same as `transfers config --accept-from`)', (v: string, a: string[]) => [...a, v], [])
    .action(async (id: string | undefined, opts: { json?: boolean, acceptFrom: string[] }) => {
      const client = await openHost()
      try {
        if (opts.acceptFrom.length > 0) {
          const s = await client.request<{ acceptFrom: string[] }>('config', { acceptFrom: opts.acceptFrom, askFrom: [] })
          process.stdout.write(`accepting files without asking from: ${s.acceptFrom.join(', ')}\n`)
          return
        }
        const list = await client.request<TransferView[]>('list')
        let ids = id != null ? [id] : list.filter(t => t.state === 'pending').map(t => t.id)
        const accept = async (tid: string): Promise<string> => {
          const t = await client.request<TransferView>('accept', { transfer: tid })
          // the sender may have given up meanwhile: say what this waits for, rather than wait in silence
          if (opts.json !== true) process.stderr.write(`accepted ${t.id.slice(0, 8)} from ${t.from}; it comes in as ${t.from} sends it (if they stopped, it resumes when they send again; Ctrl-C stops watching, the transfer stays accepted)\n`)
          return t.id
        }
        const mine = new Set<string>()
        let waitingForOffer = ids.length === 0
        if (waitingForOffer && opts.json !== true) process.stderr.write('waiting for an offer…\n')
        for (const t of ids) mine.add(await accept(t))
        ids = []
        // accepted here, then removed unfinished (another terminal, the web page), perhaps before this subscribed
        const finished = (t: TransferView | undefined): boolean => t?.state === 'complete' || t?.state === 'declined' || t?.state === 'failed'
        const gone = new Set<string>()
        const final = await follow(client, opts.json === true, (state, removed) => {
          for (const m of mine) if ((removed.has(m) && !finished(state.get(m))) || !state.has(m)) gone.add(m)
          if (waitingForOffer) {
            const offer = [...state.values()].find(t => t.state === 'pending')
            if (offer != null) { waitingForOffer = false; mine.add(offer.id); void accept(offer.id).catch(() => {}) }
            return false
          }
          return [...mine].every(m => gone.has(m) || finished(state.get(m)))
        })
        const views = [...mine].filter(m => !gone.has(m)).map(m => final.get(m)).filter((t): t is TransferView => t != null)
        if (opts.json === true) {
          // the outcome of each, also of one already over when it was accepted (no event came then)
          for (const t of views) process.stdout.write(JSON.stringify({ event: 'result', data: t }) + '\n')
          for (const m of mine) if (gone.has(m)) process.stdout.write(JSON.stringify({ event: 'result', data: { id: m, state: 'removed' } }) + '\n')
        } else {
          for (const t of views) process.stdout.write(t.state === 'complete' ? `received from ${t.from}: ${savedWhere(t)}\n` : `${t.id} ${t.state}${t.error != null ? `: ${t.error}` : ''}\n`)
          for (const m of mine) if (gone.has(m)) process.stdout.write(`${m} removed elsewhere (\`cspace transfers remove\` or the web page); what had arrived is deleted\n`)
        }
        if (views.some(t => t.state !== 'complete') || gone.size > 0) process.exitCode = 1
      } finally {
        client.close()
      }
    })

  const transfers = program.command('transfers')
    .description('list incoming transfers; accept, decline, remove them; set the downloads directory and auto-accept')
    .option('--json', 'as JSON')
    .option('--watch', 'keep showing progress until interrupted')
    .action(async (opts: { json?: boolean, watch?: boolean }) => {
      const client = await openHost()
      try {
        if (opts.watch === true) { await follow(client, opts.json === true, () => false); return }
        const list = await client.request<TransferView[]>('list')
        if (opts.json === true) process.stdout.write(JSON.stringify(list, null, 2) + '\n')
        else printList(list)
      } finally {
        client.close()
      }
    })
  for (const [op, what] of [['accept', 'accept the offer ID (or prefix)'], ['decline', 'decline the offer ID, or cancel it while it arrives'], ['remove', 'forget transfer ID and delete its partial data']] as const) {
    transfers.command(`${op} <id>`).description(what).action(async (tid: string) => {
      const client = await openHost()
      try {
        const r = await client.request<TransferView | { removed: string }>(op, { transfer: tid })
        process.stdout.write(`${'removed' in r ? `${r.removed} removed` : `${r.id} ${r.state}`}\n`)
      } finally {
        client.close()
      }
    })
  }
  transfers.command('config')
    .description('show or change where files land and whose files are accepted without asking')
    .option('--downloads <dir>', 'the directory received files are saved in')
    .option('--accept-from <name>', 'accept files from contact NAME without asking (repeatable)', (v: string, a: string[]) => [...a, v], [])
    .option('--ask <name>', 'ask again before accepting files from NAME (repeatable)', (v: string, a: string[]) => [...a, v], [])
    .option('--idle-timeout <seconds>', `drop a transfer under way whose sender sends nothing for this long (it resumes when sent again; default ${DEFAULT_IDLE_TIMEOUT_SECONDS})`)
    .option('--json', 'as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      // `transfers` has its own --json; commander gives the flag to whichever command it sees first
      const opts = cmd.optsWithGlobals<{ downloads?: string, acceptFrom: string[], ask: string[], idleTimeout?: string, json?: boolean }>()
      if (opts.idleTimeout != null && !/^\d{1,9}$/.test(opts.idleTimeout)) throw new UsageError('--idle-timeout needs a whole number of seconds')
      // resolve('') is the current directory: an empty value (an unset shell variable) must not quietly move the downloads there
      if (opts.downloads != null && opts.downloads.trim() === '') throw new UsageError('--downloads needs a directory, e.g. --downloads ~/Downloads')
      const client = await openHost()
      try {
        const s = await client.request<{ downloads: string, acceptFrom: string[], idleTimeoutSeconds: number }>('config', {
          ...(opts.downloads != null ? { downloads: resolve(opts.downloads) } : {}),
          ...(opts.idleTimeout != null ? { idleTimeoutSeconds: Number(opts.idleTimeout) } : {}),
          acceptFrom: opts.acceptFrom,
          askFrom: opts.ask
        })
        if (opts.json === true) process.stdout.write(JSON.stringify(s) + '\n')
        else process.stdout.write(`downloads: ${s.downloads}\naccept from: ${s.acceptFrom.length === 0 ? '(nobody; each offer asks)' : s.acceptFrom.join(', ')}\nidle timeout: ${s.idleTimeoutSeconds} s\n`)
      } finally {
        client.close()
      }
    })
}
