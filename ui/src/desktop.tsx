import { useEffect, useRef, useState } from 'preact/hooks'
import type RFB from '@novnc/novnc'
import './desktop.css'
import { openSocket } from './session-key'

/**
 * The daemon's connect(user, service) as a WebSocket (src/daemon/api/connect-ws.ts); the UI's session authenticates it.
 * `progress`: a text message tells when the sharer is being asked.
 */
function connectPath (contact: string): string {
  return `/v1/connect/ws?user=${encodeURIComponent(contact)}&service=desktop&progress=true`
}

/** True for the daemon's one text message, "the other side is asking its user" (ASKING_MESSAGE in src/daemon/api/connect-ws.ts). */
function isAskingEvent (data: unknown): boolean {
  if (typeof data !== 'string') return false
  try {
    const msg = JSON.parse(data) as { v?: number, event?: string }
    return msg.v === 1 && msg.event === 'asking'
  } catch {
    return false
  }
}

/**
 * A contact's shared desktop (`cspace desktop share` on their side), drawn by
 * noVNC from the RFB bytes the daemon relays. View-only unless the box is
 * ticked, and even then the sharer's side drops input unless they allowed
 * control. Closing the panel ends the session.
 */
export function DesktopView ({ contact }: { contact: string }) {
  const screen = useRef<HTMLDivElement>(null)
  const session = useRef<RFB | undefined>(undefined)
  const endedByUser = useRef(false)
  const mounted = useRef(true)
  const [active, setActive] = useState(false)
  const [control, setControl] = useState(false)
  const [status, setStatus] = useState('')
  const hint = `desktop-hint-${contact}`

  useEffect(() => () => { mounted.current = false; session.current?.disconnect() }, [])
  useEffect(() => { if (session.current != null) session.current.viewOnly = !control }, [control])

  const view = async (): Promise<void> => {
    endedByUser.current = false
    setActive(true)
    setStatus(`connecting to ${contact}…`)
    // loaded on first use: noVNC is most of the UI's code, and its module
    // awaits a probe of the browser's H.264 decoder before it is ready
    let Rfb: typeof RFB
    try {
      Rfb = (await import('@novnc/novnc')).default
    } catch (err) {
      setActive(false)
      setStatus(`disconnected: the viewer did not load (${(err as Error).message})`)
      return
    }
    if (!mounted.current || screen.current == null) return
    if (endedByUser.current) { setActive(false); setStatus('disconnected'); return }
    let reason: string | undefined
    // noVNC is given the WebSocket rather than its URL so that the daemon's
    // close reason ("bob did not allow you…"), which noVNC only logs, can be shown
    const ws = openSocket(connectPath(contact))
    ws.addEventListener('close', (e) => { if (e.reason !== '') reason ??= e.reason })
    // before noVNC's own handler (added by the constructor below): the daemon's
    // only text message is not RFB, so noVNC never sees it (noVNC 1.7 happens
    // to ignore a string as an empty message; nothing promises it will)
    ws.addEventListener('message', (e) => {
      if (typeof e.data !== 'string') return
      e.stopImmediatePropagation()
      if (isAskingEvent(e.data)) setStatus(`${contact} is being asked whether to let you view their desktop; waiting for their answer`)
    })
    const rfb = new Rfb(screen.current, ws)
    rfb.viewOnly = !control
    rfb.scaleViewport = true
    let sizes: MutationObserver | undefined
    rfb.addEventListener('connect', () => {
      // without clipping, noVNC's canvas is exactly the remote framebuffer (scaled by CSS only)
      const canvas = screen.current?.querySelector('canvas')
      if (canvas == null) return
      const show = (): void => { setStatus(`connected to ${contact}'s desktop (${canvas.width}×${canvas.height})`) }
      show()
      // the remote may change its size (xrandr); noVNC then resizes the canvas
      sizes = new MutationObserver(show)
      sizes.observe(canvas, { attributes: true, attributeFilter: ['width', 'height'] })
    })
    // e.g. the sharer's view-only filter refusing a VNC server it cannot check
    rfb.addEventListener('securityfailure', (e) => { reason ??= e.detail.reason ?? `the VNC security handshake failed (status ${e.detail.status})` })
    rfb.addEventListener('disconnect', (e) => {
      sizes?.disconnect()
      session.current = undefined
      setActive(false)
      if (endedByUser.current) setStatus('disconnected')
      else setStatus(`disconnected: ${reason ?? (e.detail.clean ? 'the session ended' : 'the connection was lost')}`)
    })
    session.current = rfb
  }

  const disconnect = (): void => {
    endedByUser.current = true
    session.current?.disconnect()
  }

  return (
    <div class="desktop">
      <div class="desktop-controls">
        {active
          ? <button type="button" onClick={disconnect}>Disconnect</button>
          : <button type="button" onClick={() => { void view() }}>View {contact}'s desktop</button>}
        <label>
          <input type="checkbox" checked={control} aria-describedby={hint} onChange={(e) => setControl(e.currentTarget.checked)} />
          {' '}Send my keyboard and mouse
        </label>
      </div>
      <p id={hint} class="desktop-hint">They reach {contact}'s screen only if {contact} shares it with <code>--allow-control</code>; otherwise you only watch.</p>
      <p role="status" class="desktop-status">{status}</p>
      {/* noVNC puts its own screen and canvas in here; Preact leaves children it did not make alone */}
      <div class="desktop-screen" ref={screen} />
    </div>
  )
}
