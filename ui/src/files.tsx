import { useEffect, useState } from 'preact/hooks'
import { uploadFile } from './api'
import type { AppChannel } from './app-channel'
import type { OutgoingView } from './types'

/** A file being uploaded to the daemon before it is offered (its bytes have to reach the files app first). */
interface Staging { key: string, name: string, loaded: number, total: number, error?: string }

/**
 * Sending files to one contact: drop them on the zone (or choose them). Each
 * file is uploaded to the files app, then sent as its own transfer, so each
 * has its own progress; the contact accepts it (or has auto-accept on).
 */
export function FilesPanel ({ id, contact, files, outgoing }: { id: string, contact: string, files: AppChannel, outgoing: OutgoingView[] }) {
  const [staging, setStaging] = useState<Staging[]>([])
  const [over, setOver] = useState(false)
  const [error, setError] = useState<string | undefined>()

  const sendAll = (list: FileList | null | undefined): void => {
    for (const file of Array.from(list ?? [])) void sendOne(file)
  }
  const sendOne = async (file: File): Promise<void> => {
    const key = `${file.name}-${Math.random()}`
    const update = (s: Partial<Staging>): void => setStaging(all => all.map(x => x.key === key ? { ...x, ...s } : x))
    setStaging(all => [...all, { key, name: file.name, loaded: 0, total: file.size }])
    try {
      const { path } = await uploadFile('files', file, (loaded) => update({ loaded }))
      await files.request('send', { to: contact, paths: [path] })
      setStaging(all => all.filter(x => x.key !== key))
    } catch (err) {
      update({ error: (err as Error).message })
    }
  }
  const mine = outgoing.filter(o => o.to === contact)

  return (
    <div id={id} class="files">
      <div class={over ? 'dropzone over' : 'dropzone'}
        onDragOver={(e) => { e.preventDefault(); setOver(true) }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); sendAll(e.dataTransfer?.files) }}>
        <p>Drop files here to send them to {contact}, or</p>
        <label for={`${id}-pick`}>Choose files to send to {contact}</label>
        <input id={`${id}-pick`} type="file" multiple onChange={(e) => { sendAll(e.currentTarget.files); e.currentTarget.value = '' }} />
      </div>
      <ul class="transfers" aria-label={`Files sent to ${contact}`}>
        {staging.map(s => (
          <li key={s.key}>
            <span>{s.name}</span> <progress max={s.total || 1} value={s.loaded} aria-label={`Preparing ${s.name}`} />{' '}
            {s.error != null ? <span role="alert" class="problem">{s.error}</span> : <small>preparing</small>}
          </li>
        ))}
        {mine.map(o => <Outgoing key={o.id} o={o} files={files} onError={setError} />)}
      </ul>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </div>
  )
}

function Outgoing ({ o, files, onError }: { o: OutgoingView, files: AppChannel, onError: (m: string) => void }) {
  const name = o.files.join(', ')
  const percent = o.totalBytes > 0 ? Math.floor(o.sentBytes * 100 / o.totalBytes) : 0
  const act = (op: 'cancel' | 'dismiss'): void => { files.request(op, { outgoing: o.id }).catch((err: Error) => onError(err.message)) }
  const finished = o.state === 'done' || o.state === 'failed' || o.state === 'cancelled'
  return (
    <li data-outgoing={name} data-state={o.state}>
      <span>{name}</span>{' '}
      <progress max={100} value={percent} aria-label={`Sending ${name}`} />{' '}
      <small class="state">{describe(o, percent)}</small>{' '}
      {finished
        ? <button type="button" class="link" onClick={() => act('dismiss')}>Clear</button>
        : <button type="button" class="link" onClick={() => act('cancel')}>Cancel {name}</button>}
    </li>
  )
}

function describe (o: OutgoingView, percent: number): string {
  switch (o.state) {
    case 'connecting': return 'connecting…'
    case 'waiting': return `waiting for ${o.to} to accept`
    case 'sending': return `${percent}% · ${size(o.rate)}/s${o.eta != null && o.eta > 0 ? ` · ${Math.ceil(o.eta)} s left` : ''}`
    // the daemon retries by itself (for 10 minutes without progress): the user has nothing to do
    case 'reconnecting': return `not sent yet: ${o.error ?? 'the connection was lost'}; trying again by itself`
    case 'done': return `100% · sent, saved by ${o.to} as ${o.saved.join(', ')}`
    case 'failed': return `failed: ${o.error ?? ''}`
    case 'cancelled': return 'cancelled'
  }
}

/** Bytes in people's units. */
export function size (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`
}

/** Follows the files app's outgoing transfers (all contacts). */
export function useOutgoing (files: AppChannel | undefined): OutgoingView[] {
  const [list, setList] = useState<OutgoingView[]>([])
  useEffect(() => {
    if (files == null) return
    const offOpen = files.onOpen(() => { files.request<OutgoingView[]>('outbox').then(setList, () => {}) })
    const offEvent = files.onEvent((event, data) => {
      if (event === 'outgoing:removed') { setList(all => all.filter(x => x.id !== (data as { removed: string }).removed)); return }
      if (event !== 'outgoing') return
      const v = data as OutgoingView
      setList(all => all.some(x => x.id === v.id) ? all.map(x => x.id === v.id ? v : x) : [...all, v])
    })
    return () => { offOpen(); offEvent() }
  }, [files])
  return list
}
