/**
 * desktop — remote desktop over cspace (service "desktop"): `share` offers a
 * local VNC server to contacts behind a view-only RFB filter and per-session
 * confirmation; `view` opens a local port that a VNC viewer uses to reach a
 * contact's shared desktop. Built only on the public SDK.
 */
export { shareDesktop, probeVnc, DESKTOP_SERVICE, type ShareOptions, type DesktopShare } from './desktop-share.js'
export { startDesktopHost, type SharingView } from './host.js'
export { viewDesktop, startViewer, type DesktopView } from './desktop-view.js'
export { watchDesktopPrompts, type PromptWatcher } from './prompts.js'
export { startX11vnc, type X11vnc } from './x11vnc.js'
export { RfbViewOnlyFilter, MAX_CUT_TEXT, MAX_ENCODINGS, MAX_PENDING, type FilterOutput } from './rfb-filter.js'
export { parseHostPort, parsePort, formatHostPort, type HostPort } from './address.js'
export { VncUnreachable, X11vncMissing, X11vncFailed, NoDisplay, ShareEnded, LocalPortInUse } from './errors.js'
