import { connect as netConnect, type Socket } from 'node:net'
import { listen, type Caller, type Listener } from '../../sdk/index.js'
import { formatHostPort, type HostPort } from './address.js'
import { bridge } from './bridge.js'
import { AlreadyShared, ShareEnded, VncUnreachable } from './errors.js'

/** The service name contacts connect to. */
export const DESKTOP_SERVICE = 'desktop'

export interface ShareOptions {
  vnc: HostPort
  /** Pass input through (keyboard, pointer, clipboard); otherwise the view-only filter drops it. */
  allowControl: boolean
  home?: string
  /** One line per event (session started/ended, filter verdicts). */
  log: (line: string) => void
}

export interface DesktopShare {
  close: () => void
  /** Resolves when sharing stops; rejects with ShareEnded if the daemon ended it. */
  done: Promise<void>
}

function who (caller: Caller): string {
  return `${caller.contactName ?? 'stranger'} (${caller.fingerprint})`
}

async function openVnc (vnc: HostPort, timeoutMs = 10_000): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    // noDelay: RFB is request/response; with Nagle a write's tail waits for the peer's delayed ACK
    const s = netConnect({ host: vnc.host, port: vnc.port, allowHalfOpen: true, noDelay: true })
    const timer = setTimeout(() => { s.destroy(); reject(new VncUnreachable(formatHostPort(vnc), 'no answer')) }, timeoutMs)
    s.once('connect', () => { clearTimeout(timer); resolve(s) })
    s.once('error', (err: NodeJS.ErrnoException) => { clearTimeout(timer); reject(new VncUnreachable(formatHostPort(vnc), err.code ?? err.message)) })
  })
}

/**
 * Checks that a VNC server answers at `vnc` with an RFB greeting, so a wrong
 * address is reported when sharing starts rather than when a contact connects.
 */
export async function probeVnc (vnc: HostPort, timeoutMs = 5_000): Promise<void> {
  const s = await openVnc(vnc, timeoutMs)
  const greeting = await new Promise<string>((resolve) => {
    let got = ''
    const timer = setTimeout(() => resolve(got), timeoutMs)
    s.setEncoding('latin1')
    s.on('data', (c: string) => { got += c; if (got.length >= 12) { clearTimeout(timer); resolve(got) } })
    s.once('close', () => { clearTimeout(timer); resolve(got) })
    s.once('error', () => {})
  })
  s.destroy()
  if (!/^RFB \d{3}\.\d{3}\n/.test(greeting)) throw new VncUnreachable(formatHostPort(vnc), 'it answered, but not with an RFB greeting')
}

/**
 * Offers the desktop service: each session the daemon lets through (a rule,
 * or the sharer's answer to a prompt) is joined to a fresh connection to the
 * VNC server, through the view-only filter unless control is allowed.
 */
export async function shareDesktop (options: ShareOptions): Promise<DesktopShare> {
  await probeVnc(options.vnc)
  let stopping = false
  const mode = options.allowControl ? 'with control' : 'view-only'
  const listener: Listener = await listen(DESKTOP_SERVICE, (session, caller) => {
    session.pause()
    openVnc(options.vnc).then(async (vnc) => {
      options.log(`${who(caller)} is viewing your desktop [${mode}]`)
      const r = await bridge(session, vnc, !options.allowControl)
      const note = r.filterReason != null ? `: closed by the view-only filter: ${r.filterReason}` : r.dropped > 0 ? ` (${r.dropped} input events dropped)` : ''
      options.log(`${who(caller)} stopped viewing${note}`)
    }).catch((err: Error) => {
      session.destroy()
      options.log(`${who(caller)} could not be served: ${err.message}`)
    })
  }, { home: options.home }).catch((err: Error & { code?: string }) => {
    // one share at a time: a second would otherwise have replaced the first, which kept saying "sharing"
    if (err.code === 'SERVICE_TAKEN') throw new AlreadyShared(/by an expose/.test(err.message) ? 'an expose named "desktop": `cspace expose desktop --remove`' : 'another `cspace desktop share` is running')
    throw err
  })
  const done = listener.closed.then(() => { if (!stopping) throw new ShareEnded() })
  return {
    close: () => { stopping = true; listener.close() },
    done
  }
}
