import { useEffect, useState } from 'preact/hooks'
import type { AppChannel } from './app-channel'

interface SharingView {
  sharing: boolean
  vnc: string | null
  allowControl: boolean
  since: number | null
  activity: Array<{ at: number, line: string }>
}

/**
 * Sharing this computer's desktop with contacts: the desktop app offers a
 * local VNC server (x11vnc, a desktop's own screen sharing…) as the `desktop`
 * service, view-only unless control is allowed. Each contact's session is
 * asked for in "Waiting for your answer" unless a rule allows them.
 */
export function DesktopSharing ({ desktop }: { desktop: AppChannel }) {
  const [view, setView] = useState<SharingView | undefined>()
  const [vnc, setVnc] = useState('127.0.0.1:5900')
  const [allowControl, setAllowControl] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    const offOpen = desktop.onOpen(() => { desktop.request<SharingView>('status').then(setView, () => {}) })
    const offEvent = desktop.onEvent((event, data) => { if (event === 'sharing') setView(data as SharingView) })
    return () => { offOpen(); offEvent() }
  }, [desktop])
  const act = async (op: 'share' | 'stop'): Promise<void> => {
    setBusy(true)
    try {
      setView(await desktop.request<SharingView>(op, op === 'share' ? { vnc: vnc.trim(), allowControl } : {}))
      setError(undefined)
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section aria-labelledby="sharing">
      <h2 id="sharing">Share your desktop</h2>
      {view == null && <p class="hint">Waiting for the desktop app (cspace daemon runs it, unless started with --no-apps)…</p>}
      {view?.sharing === true
        ? (
          <p>
            <strong>Sharing {view.vnc}</strong>, {view.allowControl ? 'with control: viewers can use your keyboard and mouse' : 'view-only'}.{' '}
            <button type="button" disabled={busy} onClick={() => { void act('stop') }}>Stop sharing</button>
          </p>
          )
        : (
          <form onSubmit={(e) => { e.preventDefault(); void act('share') }}>
            <label for="share-vnc">Your VNC server (HOST:PORT)</label>
            <input id="share-vnc" value={vnc} onInput={(e) => setVnc(e.currentTarget.value)} required maxLength={300} autocomplete="off" />
            <label class="check"><input type="checkbox" checked={allowControl} onChange={(e) => setAllowControl(e.currentTarget.checked)} /> Let viewers use my keyboard and mouse</label>
            <button type="submit" disabled={busy || view == null}>Start sharing</button>
          </form>
          )}
      {view != null && view.activity.length > 0 && (
        <ul class="activity" aria-label="Sharing activity" aria-live="polite">
          {view.activity.slice(-8).map(a => <li key={`${a.at}-${a.line}`}><small>{new Date(a.at).toLocaleTimeString()}</small> {a.line}</li>)}
        </ul>
      )}
      {error != null && <p role="alert" class="problem">{error}</p>}
    </section>
  )
}
