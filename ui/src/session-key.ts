/**
 * The session's key (src/daemon/api-auth.ts): the login link's redirect
 * hands it to this page in the URL's fragment, which no server ever sees; the
 * page keeps it in localStorage, which belongs to this origin alone (port
 * included, unlike the session cookie, which the browser also sends to every
 * other server on 127.0.0.1), and presents it on every request.
 */
const STORAGE_KEY = 'cspace-session-key'
const FROM_LOGIN = /^#session=([A-Za-z0-9_-]{16,128})$/

/** Keeps the key a login redirect brought, and takes it out of the address bar. */
export function takeSessionKeyFromUrl (): void {
  const m = FROM_LOGIN.exec(location.hash)
  if (m == null) return
  try { localStorage.setItem(STORAGE_KEY, m[1]) } catch {}
  history.replaceState(null, '', location.pathname + location.search)
}

export function sessionKey (): string {
  try { return localStorage.getItem(STORAGE_KEY) ?? '' } catch { return '' }
}

/** The header every API request carries. */
export function keyHeader (): Record<string, string> {
  return { 'x-cspace-csrf': sessionKey() }
}

/** A WebSocket to `path` on this origin: a browser cannot set its headers, so the key travels as a subprotocol. */
export function openSocket (path: string): WebSocket {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`
  return new WebSocket(url, ['cspace-ui', `cspace-key.${sessionKey()}`])
}
