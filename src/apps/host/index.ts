/** apps/host — how an app runs in the background beside the daemon and talks to its front ends (control socket, JSON lines). */
export { type AppHost, type AppHostStarter } from './app-host.js'
export { serveControl, ControlClient, controlSocketPath, AppHostNotRunning, ControlRequestFailed, CONTROL_MAX_LINE, CONTROL_MAX_UNREAD_BYTES, type ControlServer, type ControlHandler, type ControlPeer } from './control-channel.js'
export { JsonLineReader, LineError, readJsonLines, jsonLine } from './json-lines.js'
export { replyWriter } from './reply-writer.js'
export { ContactDirectory, UnknownContact, type ContactEntry } from './contact-directory.js'
export { DaemonEventFollower, type DaemonEventLine } from './daemon-events.js'
