/**
 * The application port protocol: how a local program (the SDK, `cspace
 * connect`) turns a plain TCP connection to 127.0.0.1 into a cspace session.
 * The first line each way is JSON, at most MAX_HEADER_BYTES; after an ok
 * reply the connection carries only the application's bytes. A program may
 * send bytes before the reply, but closing its side before the reply cancels
 * a connect (the other side may be asking its user: that takes a minute).
 *
 *   → {"v":1,"token":T,"op":"connect","user":"bob","service":"ssh"}
 *   ← {"v":1,"event":"asking"}  only if the connect had "progress":true: bob is
 *                                asked whether to allow it; the reply follows
 *   → {"v":1,"token":T,"op":"listen","service":"chat"}        (control connection)
 *   ← {"v":1,"event":"incoming","id":"…","caller":{…}}       (on the control connection)
 *   → {"v":1,"token":T,"op":"accept","id":"…"}               (a new connection per incoming)
 *   ← {"v":1,"ok":true}  or  {"v":1,"ok":false,"code":"…","message":"…"}
 */
import { describeWireValue } from '../util/wire-value.js'

export const APP_PROTOCOL_VERSION = 1
export const MAX_HEADER_BYTES = 4096

export type AppOperation =
  /** `progress`: also send the interim "asking" line (programs that read one reply line leave it off). */
  | { op: 'connect', user: string, service: string, progress?: boolean }
  | { op: 'listen', service: string }
  | { op: 'accept', id: string }

export type AppRequest = { v: 1, token: string } & AppOperation

/** `usage`: the request named something that does not exist or was malformed (the CLI exits 2). */
export interface AppReply { v: 1, ok: boolean, code?: string, message?: string, usage?: boolean }

/** The interim line of a connect that asked for progress: the other side is asking its user. */
export interface AskingEvent { v: 1, event: 'asking' }

/** The one AskingEvent; the web UI's connect WebSocket sends it too, as a text message (api/connect-ws.ts). */
export const ASKING_EVENT: AskingEvent = { v: 1, event: 'asking' }

export interface IncomingEvent {
  v: 1
  event: 'incoming'
  id: string
  service: string
  caller: { peerId: string, userId: string, fingerprint: string, contactName?: string }
}

export class AppProtocolError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'AppProtocolError'
  }
}

/** Validates a request line; throws AppProtocolError with a one-line reason. */
export function parseAppRequest (line: string): AppRequest {
  let m: unknown
  try { m = JSON.parse(line) } catch { throw new AppProtocolError('the first line must be JSON') }
  if (typeof m !== 'object' || m === null) throw new AppProtocolError('the first line must be a JSON object')
  const r = m as Record<string, unknown>
  if (r.v !== APP_PROTOCOL_VERSION) throw new AppProtocolError(`unsupported version ${describeWireValue(r.v)}; this daemon speaks ${APP_PROTOCOL_VERSION}`)
  if (typeof r.token !== 'string') throw new AppProtocolError('token missing')
  const str = (k: string): string => {
    if (typeof r[k] !== 'string' || (r[k] as string).length === 0 || (r[k] as string).length > 1200) throw new AppProtocolError(`"${k}" must be a non-empty string`)
    return r[k] as string
  }
  switch (r.op) {
    case 'connect': {
      if (r.progress !== undefined && typeof r.progress !== 'boolean') throw new AppProtocolError('"progress" must be true or false')
      return { v: 1, token: r.token, op: 'connect', user: str('user'), service: str('service'), ...(r.progress === true ? { progress: true } : {}) }
    }
    case 'listen': return { v: 1, token: r.token, op: 'listen', service: str('service') }
    case 'accept': return { v: 1, token: r.token, op: 'accept', id: str('id') }
    default: throw new AppProtocolError(`unknown op ${describeWireValue(r.op)}`)
  }
}

/**
 * A line of a listen() control connection as the SDK reads it: an `incoming`
 * event with every field it hands the program, or undefined for anything
 * else (a line that is not one, or an event a later daemon added).
 */
export function parseIncomingEvent (line: string): IncomingEvent | undefined {
  let m: unknown
  try { m = JSON.parse(line) } catch { return undefined }
  if (typeof m !== 'object' || m === null) return undefined
  const e = m as Record<string, unknown>
  const c = e.caller as Record<string, unknown> | null | undefined
  if (e.v !== APP_PROTOCOL_VERSION || e.event !== 'incoming' || typeof e.id !== 'string' || typeof e.service !== 'string' || typeof c !== 'object' || c === null) return undefined
  if (typeof c.peerId !== 'string' || typeof c.userId !== 'string' || typeof c.fingerprint !== 'string' || (c.contactName != null && typeof c.contactName !== 'string')) return undefined
  const caller: IncomingEvent['caller'] = { peerId: c.peerId, userId: c.userId, fingerprint: c.fingerprint }
  if (typeof c.contactName === 'string') caller.contactName = c.contactName
  return { v: 1, event: 'incoming', id: e.id, service: e.service, caller }
}

export function encodeLine (msg: object): string {
  return JSON.stringify(msg) + '\n'
}
