import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { UiSession, UiSessions } from './ui-sessions.js'

/**
 * Who may use the local API. Two kinds of caller:
 * - programs (the CLI, the SDK, the apps): `Authorization: Bearer <token>`,
 *   the token from the 0600 file `$CSPACE_HOME/api-token`;
 * - the web UI in a browser: the session cookie from a login link, and the
 *   session's key, which the login hands to the page alone (in the redirect's
 *   fragment; the page keeps it in localStorage, which is per origin, port
 *   included) and which it presents on every request: in the x-cspace-csrf
 *   header, or for a WebSocket as a subprotocol `cspace-key.KEY`. The cookie
 *   alone is not enough: cookies ignore ports, so the browser also sends it
 *   to every other server on 127.0.0.1 it visits, which could replay it from
 *   outside a browser with any Origin it likes. A cookie-authenticated
 *   request must also come from the UI's own origin (SameSite treats every
 *   127.0.0.1 port as one site).
 * Every request must name a loopback Host (DNS rebinding: a foreign name that
 * resolves to 127.0.0.1 would otherwise be "same origin" with its own page).
 */

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/
/**
 * The web UI's pages (and the login link, which carries its own one-time
 * token) are fetched with no session yet: they hold no secret, and all they
 * show comes from the API, which needs the session.
 */
const isUiPage = (path: string, method: string): boolean => (method === 'GET' || method === 'HEAD') && (path === '/' || path === '/ui' || path.startsWith('/ui/'))
/** Methods that change nothing (the WebSocket upgrade is a GET, and is origin-checked too). */
const SAFE_METHODS = new Set(['GET', 'HEAD'])

/** The header that carries the session's key (it is also what makes a request not forgeable by another page: CSRF). */
export const CSRF_HEADER = 'x-cspace-csrf'
/** A browser cannot set a WebSocket's headers: the UI offers these subprotocols, and the daemon picks the first. */
export const UI_WS_PROTOCOL = 'cspace-ui'
/** The subprotocol that carries the session's key: `cspace-key.KEY` (never picked as the socket's protocol). */
export const KEY_WS_PROTOCOL_PREFIX = 'cspace-key.'

/** The session key a request presents: its header, or its WebSocket subprotocol. */
function presentedKey (req: FastifyRequest): string {
  const header = req.headers[CSRF_HEADER]
  if (typeof header === 'string') return header
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map(p => p.trim())
  return offered.find(p => p.startsWith(KEY_WS_PROTOCOL_PREFIX))?.slice(KEY_WS_PROTOCOL_PREFIX.length) ?? ''
}

/** The session cookie's name: per port, as cookies are shared by every port of a host. */
export function sessionCookieName (port: number): string {
  return `cspace_ui_${port}`
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the caller is the web UI (cookie), not a program (bearer token). */
    uiSession?: UiSession
  }
}

interface Refusal { status: 401 | 403, code: string, message: string }

/** Checks one request; returns the refusal to send, or undefined to let it through. */
export function checkCaller (req: FastifyRequest, opts: { token: Buffer, sessions: UiSessions, port: number }): Refusal | undefined {
  const host = req.headers.host ?? ''
  if (!LOOPBACK_HOST.test(host)) return { status: 403, code: 'FORBIDDEN_HOST', message: 'the local API answers only to 127.0.0.1 or localhost' }
  if (isUiPage(req.url.split('?')[0], req.method)) return undefined

  const got = Buffer.from(req.headers.authorization ?? '')
  if (got.length === opts.token.length && timingSafeEqual(got, opts.token)) return undefined

  const cookies = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies
  const session = opts.sessions.find(cookies?.[sessionCookieName(opts.port)])
  if (session == null) {
    return { status: 401, code: 'UNAUTHORIZED', message: 'missing or wrong API token (the CLI reads it from $CSPACE_HOME/api-token; a browser logs in with the link from `cspace ui`)' }
  }
  const origin = req.headers.origin
  const ownOrigin = `http://${host}`
  if (origin != null && origin !== ownOrigin) return { status: 403, code: 'FORBIDDEN_ORIGIN', message: `requests from ${origin.slice(0, 100)} are not accepted` }
  // a WebSocket can change things (the apps' control channels, sessions) and carries no CSRF header; browsers always send its Origin
  if (origin == null && String(req.headers.upgrade ?? '').toLowerCase() === 'websocket') return { status: 403, code: 'FORBIDDEN_ORIGIN', message: 'a WebSocket from the UI needs its Origin header' }
  if (!SAFE_METHODS.has(req.method) && origin == null) return { status: 403, code: 'FORBIDDEN_ORIGIN', message: 'a change needs the Origin header of the UI' }
  const key = Buffer.from(presentedKey(req))
  const expected = Buffer.from(session.csrf)
  if (key.length !== expected.length || !timingSafeEqual(key, expected)) {
    return { status: 403, code: 'CSRF', message: `a browser request needs the session's key in the ${CSRF_HEADER} header, as the UI sends it; open the UI with the link from \`cspace ui\`` }
  }
  req.uiSession = session
  return undefined
}

/** Answers a refused caller and closes the connection: whatever body it is still sending is not waited for. */
export async function refuse (reply: FastifyReply, r: Refusal): Promise<FastifyReply> {
  return await reply.code(r.status).header('connection', 'close').send({ error: { code: r.code, message: r.message } })
}
