import { UsageError } from '../../errors.js'
import { serveControl, type AppHost, type AppHostStarter, type ControlHandler } from '../host/index.js'
import { formatHostPort, parseHostPort } from './address.js'
import { shareDesktop, type DesktopShare } from './desktop-share.js'

/** What front ends see of the sharing (`status`, and `sharing` events). */
export interface SharingView {
  sharing: boolean
  vnc: string | null
  allowControl: boolean
  since: number | null
  /** The last lines of what happened (who viewed, filter verdicts), newest last. */
  activity: Array<{ at: number, line: string }>
}

const KEEP_ACTIVITY = 50

/**
 * The desktop app's background part, run by `cspace daemon`, for the web UI's
 * sharing controls: it shares a VNC server on request (`share`, `stop`,
 * `status`, `subscribe` on its control socket) exactly as `cspace desktop
 * share` does from a terminal — the same view-only filter, each session
 * allowed by a rule or the user's answer to a prompt. Sharing is never
 * resumed after a restart: it starts only when asked.
 */
export const startDesktopHost: AppHostStarter = async ({ home }): Promise<AppHost> => {
  let share: DesktopShare | undefined
  const view: SharingView = { sharing: false, vnc: null, allowControl: false, since: null, activity: [] }
  let broadcast: (event: string, data: unknown) => void = () => {}
  const note = (line: string): void => {
    view.activity = [...view.activity, { at: Date.now(), line }].slice(-KEEP_ACTIVITY)
    broadcast('sharing', view)
  }
  const stop = (): void => {
    share?.close()
    share = undefined
    Object.assign(view, { sharing: false, vnc: null, since: null })
  }

  const handlers: Record<string, ControlHandler> = {
    status: () => view,
    /** {vnc: "HOST:PORT", allowControl?} → SharingView; the VNC server must answer with an RFB greeting. */
    share: async (p) => {
      if (share != null) throw new UsageError(`already sharing ${view.vnc ?? ''}; stop first to change it`, 'ALREADY_SHARING')
      if (typeof p.vnc !== 'string') throw new UsageError('"vnc" must be the VNC server\'s HOST:PORT')
      const vnc = parseHostPort(p.vnc)
      const allowControl = p.allowControl === true
      const started = await shareDesktop({ vnc, allowControl, home, log: note })
      share = started
      Object.assign(view, { sharing: true, vnc: formatHostPort(vnc), allowControl, since: Date.now() })
      note(`sharing ${formatHostPort(vnc)}, ${allowControl ? 'with control' : 'view-only'}`)
      // the daemon ended it (it stopped): say so, and be ready to share again
      started.done.catch((err: Error) => {
        if (share !== started) return
        stop()
        note(`sharing stopped: ${err.message}`)
      })
      return view
    },
    stop: () => {
      if (share == null) return view
      stop()
      note('sharing stopped')
      return view
    },
    subscribe: (_p, peer) => { peer.subscribed = true; return view }
  }
  const control = await serveControl('desktop', handlers, home)
  broadcast = control.broadcast
  return {
    app: 'desktop',
    stop: async () => {
      stop()
      await control.close()
    }
  }
}
