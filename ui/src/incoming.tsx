import { useEffect, useState } from 'preact/hooks'
import type { AppChannel } from './app-channel'
import type { IncomingView } from './types'
import { size } from './files'

/**
 * Files offered to the user: accept or decline those waiting, watch the
 * others arrive (or stop one and delete what arrived), clear finished ones. Files land in the downloads directory
 * (`cspace transfers config --downloads DIR`).
 */
export function IncomingTransfers ({ files }: { files: AppChannel }) {
  const [list, setList] = useState<IncomingView[]>([])
  const [error, setError] = useState<string | undefined>()

  useEffect(() => {
    const load = (): void => { files.request<IncomingView[]>('list').then(setList, (err: Error) => setError(err.message)) }
    const offOpen = files.onOpen(load)
    const offEvent = files.onEvent((event, data) => {
      if (event === 'transfer') {
        const v = data as IncomingView
        setList(all => all.some(x => x.id === v.id) ? all.map(x => x.id === v.id ? v : x) : [v, ...all])
      } else if (event === 'progress') {
        const p = data as { id: string, receivedBytes: number, rate: number }
        setList(all => all.map(x => x.id === p.id ? { ...x, receivedBytes: p.receivedBytes, rate: p.rate, connected: true } : x))
      } else if (event === 'transfer:removed') {
        const { id } = data as { id: string }
        setList(all => all.filter(x => x.id !== id))
      } else if (event === 'offer') {
        load()
      }
    })
    return () => { offOpen(); offEvent() }
  }, [files])

  const act = async (op: 'accept' | 'decline' | 'remove', id: string): Promise<void> => {
    try {
      const out = await files.request<IncomingView | { removed: string }>(op, { transfer: id })
      setList(all => 'removed' in out ? all.filter(x => x.id !== id) : all.map(x => x.id === id ? out : x))
      setError(undefined)
    } catch (err) {
      setError((err as Error).message)
    }
  }

  /** Declined first, so that a sender still connected is told to stop rather than offering it again; then what arrived is deleted. */
  const stop = async (id: string): Promise<void> => {
    await files.request('decline', { transfer: id }).catch(() => {})
    await act('remove', id)
  }

  if (list.length === 0 && error == null) return null
  return (
    <section aria-labelledby="incoming">
      <h2 id="incoming">Files for you</h2>
      <ul class="transfers">
        {list.map(t => {
          const what = t.paths.length === 1 ? t.paths[0] : `${t.files} files (${t.paths.slice(0, 3).join(', ')}${t.files > 3 ? ', …' : ''})`
          const percent = t.totalBytes > 0 ? Math.floor(t.receivedBytes * 100 / t.totalBytes) : 100
          return (
            <li key={t.id} data-incoming={t.id} data-state={t.state}>
              <p><strong>{t.from}</strong> {t.state === 'pending' ? 'offers' : t.state === 'declined' ? 'offered' : 'sent'} {what}, {size(t.totalBytes)}</p>
              {t.state === 'pending' && (
                <>
                  <button type="button" onClick={() => { void act('accept', t.id) }}>Accept {what}</button>
                  <button type="button" onClick={() => { void act('decline', t.id) }}>Decline</button>
                </>
              )}
              {t.state === 'accepted' && (
                <>
                  <progress max={100} value={percent} aria-label={`Receiving ${what}`} /> <small>{percent}% · {t.connected ? `${size(t.rate)}/s` : `waiting for ${t.from} to send the rest`}</small>{' '}
                  {/* the sender may have given up for good: what arrived would otherwise stay on disk */}
                  <button type="button" class="link" aria-label={`Stop and delete ${what}`} onClick={() => { void stop(t.id) }}>Stop and delete</button>
                </>
              )}
              {t.state === 'complete' && <small>saved as {t.saved.join(', ')}{t.savedIn != null ? ` in ${t.savedIn}` : ''}</small>}
              {(t.state === 'declined' || t.state === 'failed') && <small>{t.state}{t.error != null ? `: ${t.error}` : ''}</small>}
              {t.state !== 'pending' && t.state !== 'accepted' && <>{' '}<button type="button" class="link" onClick={() => { void act('remove', t.id) }}>Clear</button></>}
            </li>
          )
        })}
      </ul>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </section>
  )
}
