import { createHash, randomBytes } from 'node:crypto'

/**
 * Browser sessions of the web UI. `cspace ui` asks the daemon (over the
 * token-authenticated API) for a one-time login link; opening it turns the
 * link's token into a session cookie, so no secret stays in the browser's
 * address bar or history. Sessions live in memory: a daemon restart logs the
 * browser out, and `cspace ui` logs it in again.
 */

/** A login link must be opened within this. */
export const LOGIN_TOKEN_TTL_MS = 2 * 60_000
/** A session unused for this long is forgotten. */
export const SESSION_IDLE_MS = 12 * 60 * 60_000
/** Bounds, so that a script calling `cspace ui` in a loop cannot grow the daemon. */
const MAX_PENDING_LOGINS = 16
const MAX_SESSIONS = 32

export interface UiSession {
  /** The cookie's value. */
  id: string
  /** Sent back by the UI in a header on every state-changing request (CSRF). */
  csrf: string
  lastUsed: number
}

/** Secrets are looked up by their SHA-256, so a lookup's timing says nothing about the secret. */
const keyOf = (secret: string): string => createHash('sha256').update(secret).digest('base64')
const newSecret = (): string => randomBytes(32).toString('base64url')

export class UiSessions {
  private readonly logins = new Map<string, number>() // key of token → expiresAt
  private readonly sessions = new Map<string, UiSession>() // key of id → session
  private readonly closers = new Map<string, Set<() => void>>() // key of id → what ends with it (its WebSockets)

  constructor (private readonly now: () => number = Date.now) {}

  /** A new one-time login token; the oldest pending one is dropped past the bound. */
  issueLoginToken (): { token: string, expiresAt: number } {
    this.prune()
    if (this.logins.size >= MAX_PENDING_LOGINS) this.logins.delete(this.logins.keys().next().value as string)
    const token = newSecret()
    const expiresAt = this.now() + LOGIN_TOKEN_TTL_MS
    this.logins.set(keyOf(token), expiresAt)
    return { token, expiresAt }
  }

  /** Spends a login token: a new session, or undefined if the token is unknown, used or expired. */
  redeem (token: string): UiSession | undefined {
    const key = keyOf(token)
    const expiresAt = this.logins.get(key)
    this.logins.delete(key)
    if (expiresAt == null || expiresAt < this.now()) return undefined
    this.prune()
    if (this.sessions.size >= MAX_SESSIONS) {
      // the least recently used goes
      const oldest = [...this.sessions.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0]
      this.forget(oldest[0])
    }
    const session: UiSession = { id: newSecret(), csrf: newSecret(), lastUsed: this.now() }
    this.sessions.set(keyOf(session.id), session)
    return session
  }

  /** The live session a cookie names, marked as used; undefined if there is none. */
  find (id: string | undefined): UiSession | undefined {
    if (id == null || id === '') return undefined
    const key = keyOf(id)
    const session = this.sessions.get(key)
    if (session == null) return undefined
    if (this.idle(key, session)) {
      this.forget(key)
      return undefined
    }
    session.lastUsed = this.now()
    return session
  }

  /**
   * Runs `close` when the session ends (logout, eviction, expiry), so that
   * what it opened (its WebSockets) does not outlive it; returns the call that
   * forgets `close` (when the socket closed first).
   */
  onEnd (session: UiSession, close: () => void): () => void {
    const key = keyOf(session.id)
    if (!this.sessions.has(key)) { close(); return () => {} }
    const set = this.closers.get(key) ?? new Set()
    this.closers.set(key, set.add(close))
    return () => {
      set.delete(close)
      if (set.size === 0 && this.closers.get(key) === set) this.closers.delete(key)
    }
  }

  /** Logs a session out. */
  end (id: string): void {
    this.forget(keyOf(id))
  }

  /** A session with a WebSocket open is in use, however long ago its last request was. */
  private idle (key: string, session: UiSession): boolean {
    return session.lastUsed + SESSION_IDLE_MS < this.now() && !this.closers.has(key)
  }

  private forget (key: string): void {
    this.sessions.delete(key)
    const closers = this.closers.get(key)
    this.closers.delete(key)
    for (const close of closers ?? []) close()
  }

  private prune (): void {
    const now = this.now()
    for (const [k, expiresAt] of this.logins) if (expiresAt < now) this.logins.delete(k)
    for (const [k, s] of this.sessions) if (this.idle(k, s)) this.forget(k)
  }
}
