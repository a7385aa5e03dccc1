import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import { connect } from '../../sdk/index.js'
import { ContactDirectory } from '../host/index.js'
import { DESKTOP_SERVICE } from './desktop-share.js'
import { LocalPortInUse } from './errors.js'
import { findOnPath } from '../../util/find-on-path.js'

export interface DesktopView {
  /** The local port a VNC viewer opens (127.0.0.1). */
  port: number
  close: () => Promise<void>
}

/**
 * Opens 127.0.0.1:port (0: any free port); each connection a viewer makes
 * there becomes a session to `user`'s desktop service.
 */
export async function viewDesktop (options: { user: string, port: number, home?: string, log: (line: string) => void }): Promise<DesktopView> {
  // fail early, with a usage error, on a name that is neither a contact nor a user ID
  await new ContactDirectory({ home: options.home }).resolve(options.user)
  const sockets = new Set<Socket>()
  // noDelay: see desktop-share.ts; the viewer's socket is the last hop of every update
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (local) => {
    sockets.add(local)
    local.once('close', () => sockets.delete(local))
    local.on('error', () => {})
    const onAsking = (): void => { options.log(`${options.user} is being asked whether to let you view their desktop; waiting for their answer`) }
    connect(options.user, DESKTOP_SERVICE, { home: options.home, onAsking }).then((remote) => {
      if (local.destroyed) { remote.destroy(); return }
      // said each time: the last line must not go on reading "being asked" or "did not allow you"
      options.log(`viewing ${options.user}'s desktop`)
      remote.once('close', () => { options.log(`${options.user}'s desktop session ended${remote.errored != null ? ` (${remote.errored.message})` : ''}`) })
      remote.on('error', () => local.destroy())
      local.on('error', () => remote.destroy())
      local.once('close', () => remote.destroy()) // the viewer is gone: nothing more to deliver
      // a clean end from the sharer has already ended `local` through the pipe; let it flush
      remote.once('close', () => { if (remote.errored != null) local.destroy(); else setTimeout(() => local.destroy(), 5000).unref() })
      local.pipe(remote)
      remote.pipe(local)
    }).catch((err: Error & { code?: string }) => {
      options.log(err.code === 'NO_SUCH_SERVICE'
        ? `${options.user} is not sharing their desktop (they start with \`cspace desktop share\`)`
        : `cannot reach ${options.user}'s desktop: ${err.message}`)
      local.destroy()
    })
  })
  server.listen(options.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new LocalPortInUse(options.port) : err))
  })
  const port = (server.address() as { port: number }).port
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** Viewers tried in order, with how each is told to open 127.0.0.1:port. */
const VIEWERS: Array<{ name: string, args: (port: number) => string[] | undefined }> = [
  { name: 'vncviewer', args: p => [`127.0.0.1::${p}`] }, // TigerVNC, TightVNC, RealVNC: host::port
  { name: 'xtightvncviewer', args: p => [`127.0.0.1::${p}`] },
  { name: 'xvncviewer', args: p => [`127.0.0.1::${p}`] },
  { name: 'gvncviewer', args: p => p >= 5900 ? [`127.0.0.1:${p - 5900}`] : undefined }, // takes a display number only
  { name: 'remmina', args: p => ['-c', `vnc://127.0.0.1:${p}`] },
  { name: 'krdc', args: p => [`vnc://127.0.0.1:${p}`] }
]

/** Starts the first VNC viewer found on PATH pointed at the port, or returns undefined if there is none. */
export function startViewer (port: number): { name: string, proc: ChildProcess } | undefined {
  for (const v of VIEWERS) {
    const path = findOnPath(v.name)
    const args = v.args(port)
    if (path == null || args == null) continue
    const proc = spawn(path, args, { stdio: 'ignore' })
    proc.on('error', () => {})
    return { name: v.name, proc }
  }
  return undefined
}
