import { CspaceError, UsageError } from '../../errors.js'

/** The VNC server to share cannot be reached, or is not a VNC server. */
export class VncUnreachable extends CspaceError {
  constructor (address: string, why: string) {
    super('VNC_UNREACHABLE', `no VNC server at ${address} (${why}); start one (e.g. \`x11vnc -localhost -forever\`), pass --vnc HOST:PORT, or use --start`)
  }
}

/** `--start` needs x11vnc on PATH. */
export class X11vncMissing extends CspaceError {
  constructor () {
    super('X11VNC_MISSING', 'x11vnc is not installed (--start runs it); install it (Debian/Ubuntu: apt install x11vnc) or run a VNC server yourself and pass --vnc HOST:PORT')
  }
}

/** `--start` shares an X display; there is none in this environment. */
export class NoDisplay extends CspaceError {
  constructor () {
    super('NO_DISPLAY', 'DISPLAY is not set, so there is no X display to share; run this inside your desktop session, or set DISPLAY (e.g. DISPLAY=:0)')
  }
}

/** x11vnc started but failed before it listened. */
export class X11vncFailed extends CspaceError {
  constructor (detail: string) {
    super('X11VNC_FAILED', `x11vnc did not start: ${detail}`)
  }
}

/** x11vnc, started by `desktop share --start`, ended while sharing. */
export class X11vncStopped extends CspaceError {
  constructor (detail: string) {
    super('X11VNC_STOPPED', `x11vnc stopped (${detail}), so there is no desktop to show; sharing ended`)
  }
}

/** The daemon ended the registration of the desktop service (it stopped). */
export class ShareEnded extends CspaceError {
  constructor () {
    super('SHARE_ENDED', 'the daemon stopped serving "desktop" (did `cspace daemon` stop?); restart it and share again')
  }
}

/** The daemon offers "desktop" already: another share runs, or an expose has the name. */
export class AlreadyShared extends CspaceError {
  constructor (detail: string) {
    super('ALREADY_SHARED', `"desktop" is already offered from this daemon (${detail}); stop that first`)
  }
}

/** `desktop view --port N` where N is taken. */
export class LocalPortInUse extends UsageError {
  constructor (port: number) {
    super(`local port ${port} is already in use; pick another with --port, or leave it out for any free port`, 'PORT_IN_USE')
  }
}
