/**
 * apps — the applications shipped with cspace (chat, files, desktop), each
 * built only on the public SDK, as a third-party developer would. Chat and
 * file transfer have a background part that `cspace daemon` starts beside the
 * node, so messages and files arrive while no window is open; the desktop's
 * shares a VNC server when the web UI asks it to.
 */
import type { AppHost, AppHostStarter } from './host/index.js'
import { startChatHost } from './chat/index.js'
import { startFilesHost } from './files/index.js'
import { startDesktopHost } from './desktop/index.js'

/** By name: a function's own name does not survive the bundle's minifier. */
const STARTERS: ReadonlyArray<[string, AppHostStarter]> = [['chat', startChatHost], ['files', startFilesHost], ['desktop', startDesktopHost]]

/** Starts every app's background part; one that fails to start is reported and the others still run. */
export async function startAppHosts (options: { home: string, onError: (app: string, err: Error) => void }): Promise<AppHost[]> {
  const hosts: AppHost[] = []
  for (const [app, start] of STARTERS) {
    try {
      hosts.push(await start({ home: options.home }))
    } catch (err) {
      options.onError(app, err as Error)
    }
  }
  return hosts
}

export async function stopAppHosts (hosts: AppHost[]): Promise<void> {
  await Promise.all(hosts.map(async (h) => await h.stop().catch(() => {})))
}
