import { Command } from 'commander'
import { UsageError } from '../../errors.js'
import {
  formatHostPort, parseHostPort, parsePort, shareDesktop, startViewer, startX11vnc, viewDesktop, watchDesktopPrompts,
  type HostPort, type X11vnc
} from '../../apps/desktop/index.js'
import { hasGraphicalSession } from '../../util/find-on-path.js'

/** Resolves on the first SIGINT/SIGTERM: both commands run until Ctrl-C. */
async function untilSignal (): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}

const say = (line: string): void => { process.stdout.write(`${line}\n`) }
const warn = (line: string): void => { process.stderr.write(`${line}\n`) }

/** `cspace desktop share` and `cspace desktop view`: remote desktop (VNC) between contacts. */
export function registerDesktopCommands (program: Command): void {
  const desktop = program.command('desktop').description('remote desktop (VNC) with contacts: share yours, or view theirs')

  desktop.command('share')
    .description('let contacts view your desktop (a local VNC server); each session asks you first unless a rule allows the contact (cspace rules add allow NAME desktop)')
    .option('--vnc <host:port>', 'the VNC server to share (default 127.0.0.1:5900)')
    .option('--start', 'start x11vnc on the current X display ($DISPLAY) for as long as sharing runs')
    .option('--allow-control', 'let viewers use keyboard, mouse and clipboard (default: view-only, enforced here)')
    .action(async (opts: { vnc?: string, start?: boolean, allowControl?: boolean }) => {
      if (opts.vnc != null && opts.start === true) throw new UsageError('use either --vnc HOST:PORT or --start, not both')
      const allowControl = opts.allowControl === true
      let vnc: HostPort = parseHostPort(opts.vnc ?? '127.0.0.1:5900')
      let x11vnc: X11vnc | undefined
      if (opts.start === true) {
        x11vnc = await startX11vnc({ allowControl })
        vnc = { host: '127.0.0.1', port: x11vnc.port }
      }
      try {
        const share = await shareDesktop({ vnc, allowControl, log: say })
        say(`sharing your desktop (${formatHostPort(vnc)}${x11vnc != null ? ', x11vnc' : ''}) as "desktop", ${allowControl ? 'WITH CONTROL' : 'view-only'}; Ctrl-C to stop`)
        const prompts = watchDesktopPrompts({ allowControl, out: say, interactive: process.stdin.isTTY === true })
        try {
          await Promise.race([share.done, untilSignal(), ...(x11vnc != null ? [x11vnc.exited] : [])])
        } finally {
          prompts.stop()
          share.close()
        }
      } finally {
        await x11vnc?.stop()
      }
      process.exit(0) // a readline on a TTY may still hold the event loop
    })

  desktop.command('view <user>')
    .description('open USER\'s shared desktop: a local port for a VNC viewer, which is started if one is installed')
    .option('--port <n>', 'local port on 127.0.0.1 (default: any free port)')
    .option('--no-viewer', 'do not start a VNC viewer; just print the address')
    .action(async (user: string, opts: { port?: string, viewer: boolean }) => {
      const port = parsePort(opts.port ?? '0')
      const view = await viewDesktop({ user, port, log: warn })
      say(String(view.port)) // first line: the port, for scripts
      const viewer = opts.viewer && hasGraphicalSession()
        ? startViewer(view.port)
        : undefined
      if (viewer == null) warn(`open 127.0.0.1:${view.port} in a VNC viewer (e.g. vncviewer 127.0.0.1::${view.port}); Ctrl-C to stop`)
      else warn(`started ${viewer.name} on 127.0.0.1:${view.port}; closing it (or Ctrl-C) ends the view`)
      // closing the viewer window ends the view too
      const viewerExit = viewer != null ? new Promise<void>(resolve => viewer.proc.once('exit', () => resolve())) : new Promise<void>(() => {})
      await Promise.race([untilSignal(), viewerExit])
      viewer?.proc.kill()
      await view.close()
      process.exit(0)
    })
}
