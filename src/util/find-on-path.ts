import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The full path of `name` if an executable of that name is on PATH (no shell, no `which`). */
export function findOnPath (name: string, path: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch { /* not here */ }
  }
  return undefined
}

/** True inside a graphical session (X11, Wayland, macOS), where a browser or a VNC viewer can open a window. */
export function hasGraphicalSession (): boolean {
  return process.platform === 'darwin' || process.env.DISPLAY != null || process.env.WAYLAND_DISPLAY != null
}
