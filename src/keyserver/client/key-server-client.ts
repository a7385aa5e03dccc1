import { fingerprint, parseUserId } from '../../identity/index.js'
import { parseOperation, verifyOperationSignatures, type SignedOperation } from '../operation.js'
import { replayLog, type ReplayedLog } from '../name-log.js'
import { validateSearchAfter, validateUsername, validateUsernamePrefix } from '../username.js'
import { KeyServerError, KeyServerUnavailable, UntrustworthyAnswer } from '../errors.js'
import { printable } from '../../util/printable.js'
import { describeWireValue } from '../../util/wire-value.js'
import { MAX_NAMES_PER_KEY } from '../entry.js'
import { unreachableReason } from './unreachable.js'

/** An entry whose signature this client has checked; the fingerprint is computed here, not taken from the server. */
export interface VerifiedEntry {
  username: string
  key: string
  fingerprint: string
  displayName: string
  /** The log entry it rests on, and its sequence number. */
  operation: SignedOperation
  seq: number
}

const MAX_RESPONSE_BYTES = 1024 * 1024
const LOG_PAGE = 200
const MAX_LOG_PAGES = 25 // 5,000 entries: far beyond any honest name's history
const TIMEOUT_MS = 10_000
/**
 * Refusals of what the user asked for (a name taken, none such, not theirs):
 * usage errors, exit 2. Any other refusal (a rate limit, a clock off, a
 * race, a client the server does not understand) is a runtime failure, exit 1.
 */
const ABOUT_THE_REQUEST = new Set(['INVALID_USERNAME', 'INVALID_REQUEST', 'NAME_TAKEN', 'NAME_CONFUSABLE', 'KEY_HAS_NAME', 'USERNAME_NOT_FOUND', 'USERNAME_DELETED', 'KEY_NOT_FOUND', 'WRONG_KEY'])
/** A whole log, however many pages: a server that drips it out is cut off. */
const HISTORY_TIMEOUT_MS = 30_000

/**
 * Talks to a key server and trusts nothing it says: every entry's signature
 * is checked, logs are replayed from their first entry, and a name or key
 * other than the one asked for is refused (UntrustworthyAnswer).
 */
export class KeyServerClient {
  readonly url: string

  constructor (url: string) {
    this.url = url.replace(/\/+$/, '')
  }

  async lookup (username: string): Promise<VerifiedEntry> {
    const name = validateUsername(username)
    const entry = await verifyEntry(await this.request('GET', `/v1/users/${name}`))
    if (entry.username !== name) throw new UntrustworthyAnswer(`asked for "${name}", got "${entry.username}"`)
    return entry
  }

  /** The whole change log of a name, replayed and checked link by link. */
  async history (username: string): Promise<{ log: SignedOperation[], replayed: ReplayedLog }> {
    const name = validateUsername(username)
    const log: SignedOperation[] = []
    const deadline = AbortSignal.timeout(HISTORY_TIMEOUT_MS)
    let from: number | null = 0
    for (let page = 0; from != null; page++) {
      if (page === MAX_LOG_PAGES) throw new UntrustworthyAnswer(`"${name}"'s log is longer than any honest one`)
      const body = await this.request('GET', `/v1/users/${name}/log?from=${from}&limit=${LOG_PAGE}`, undefined, deadline) as { operations?: unknown, next?: unknown }
      if (!Array.isArray(body?.operations)) throw new UntrustworthyAnswer('a log page without operations')
      // each entry's signatures are checked below: the pages' count is what bounds that work
      if (body.operations.length > LOG_PAGE) throw new UntrustworthyAnswer(`a log page of ${body.operations.length} operations, when ${LOG_PAGE} were asked for`)
      for (const raw of body.operations) log.push(parseAnswer(raw))
      if (body.next != null && (body.next !== log.length || body.operations.length === 0)) throw new UntrustworthyAnswer('a log page out of sequence')
      from = body.next == null ? null : log.length
    }
    return { log, replayed: await replayLog(name, log) }
  }

  /**
   * Checks that an entry is the current state of its name: its log must
   * replay from the first entry to this very key. A server cannot then show
   * a superseded (but validly signed) entry for a name that has moved on.
   */
  async confirmCurrent (entry: VerifiedEntry): Promise<{ log: SignedOperation[], replayed: ReplayedLog }> {
    const history = await this.history(entry.username)
    if (history.replayed.state.key !== entry.key) throw new UntrustworthyAnswer(`"${entry.username}": the entry is not the head of the name's log (the key it shows is not the current one)`)
    return history
  }

  /** One page of live usernames starting with prefix; `next` continues it. */
  async search (prefix: string, after = '', limit = 20): Promise<{ users: VerifiedEntry[], next: string | null }> {
    // checked here, so the user reads what is wrong in this client's words, not the server's schema
    validateUsernamePrefix(prefix)
    validateSearchAfter(after)
    const q = new URLSearchParams({ prefix, after, limit: String(limit) })
    const body = await this.request('GET', `/v1/users?${q.toString()}`) as { users?: unknown, next?: unknown }
    if (!Array.isArray(body?.users)) throw new UntrustworthyAnswer('a search page without users')
    if (body.users.length > limit) throw new UntrustworthyAnswer(`a search page of ${body.users.length} users, when ${limit} were asked for`)
    const users = await Promise.all(body.users.map(verifyEntry))
    if (users.some((u, i) => !u.username.startsWith(prefix) || u.username <= after || (i > 0 && u.username <= users[i - 1].username))) throw new UntrustworthyAnswer('a search result outside the prefix asked for, or out of order')
    // `next` is printed for the user to paste: it must be the last name of this page, nothing else
    if (body.next != null && (users.length === 0 || body.next !== users[users.length - 1].username)) throw new UntrustworthyAnswer('a search page whose "next" is not its last name')
    return { users, next: body.next != null ? users[users.length - 1].username : null }
  }

  /** The usernames held by the key with this fingerprint (digits, spaces optional). */
  async byFingerprint (print: string): Promise<VerifiedEntry[]> {
    const digits = print.replace(/[\s-]/g, '')
    const body = await this.request('GET', `/v1/keys/${encodeURIComponent(digits)}`) as { users?: unknown }
    if (!Array.isArray(body?.users)) throw new UntrustworthyAnswer('a key lookup without users')
    if (body.users.length > MAX_NAMES_PER_KEY) throw new UntrustworthyAnswer(`a key lookup of ${body.users.length} names, more than the ${MAX_NAMES_PER_KEY} a key server gives`)
    const users = await Promise.all(body.users.map(verifyEntry))
    if (users.some(u => u.fingerprint.replaceAll(' ', '') !== digits)) throw new UntrustworthyAnswer('an entry for a key other than the one asked for')
    return users
  }

  /** Appends a signed operation to its name's log; returns the server's (checked) entry. */
  async submit (op: SignedOperation): Promise<unknown> {
    return await this.request('POST', `/v1/users/${op.username}/log`, op)
  }

  private async request (method: string, path: string, body?: unknown, deadline?: AbortSignal): Promise<unknown> {
    let res: Response
    try {
      const timeout = AbortSignal.timeout(TIMEOUT_MS)
      res = await fetch(this.url + path, {
        method,
        headers: body != null ? { 'content-type': 'application/json' } : {},
        body: body != null ? JSON.stringify(body) : undefined,
        // the URL the user configured is the server they trust, not wherever it points: a redirect is shown, not followed
        redirect: 'manual',
        signal: deadline != null ? AbortSignal.any([timeout, deadline]) : timeout
      })
    } catch (err) {
      const e = err as Error & { cause?: { code?: string, message?: string } }
      // fetch refuses some ports outright (the Fetch standard's "bad ports": 1, 25, 6000, …), as browsers do
      if (e.cause?.message === 'bad port') throw new KeyServerUnavailable(this.url, `port ${new URL(this.url).port} is one that fetch refuses to use (as browsers do); run the key server on another port, such as 8470`)
      throw new KeyServerUnavailable(this.url, unreachableReason(err, this.url, TIMEOUT_MS))
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel()
      const to = res.headers.get('location')
      throw new KeyServerUnavailable(this.url, to != null
        ? `it redirects to ${printable(to).slice(0, 200)}; if you trust that address, use it instead (--keyserver, or "keyserver" in config.json)`
        : `it answered ${res.status} (a redirect) with nowhere to go; check the URL`)
    }
    const text = await readCapped(res, this.url)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      // a proxy in front of the key server answers these for it when it is down
      if (res.status === 502 || res.status === 503 || res.status === 504) throw new KeyServerUnavailable(this.url, `it answered ${res.status} from a proxy, which may not reach the key server behind it; try again later`)
      throw new KeyServerUnavailable(this.url, `it answered ${res.status} with something that is not JSON; is the URL a cspace key server?`)
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: unknown, message?: unknown } })?.error
      if (typeof e?.code !== 'string' || typeof e.message !== 'string') throw new KeyServerUnavailable(this.url, `it answered ${res.status} without a reason`)
      const code = printable(e.code).slice(0, 40)
      throw new KeyServerError(code, `the key server says: ${printable(e.message).slice(0, 300)}`, res.status, ABOUT_THE_REQUEST.has(code) ? 2 : 1)
    }
    return json
  }
}

/** Checks one lookup answer: its operation is well formed, matches it, and is signed by the key it names. */
export async function verifyEntry (raw: unknown): Promise<VerifiedEntry> {
  const e = raw as { username?: unknown, key?: unknown, seq?: unknown, operation?: unknown }
  if (typeof e !== 'object' || e == null) throw new UntrustworthyAnswer('an entry that is not an object')
  const op = parseAnswer(e.operation)
  if (op.op === 'delete' || op.username !== e.username || op.key !== e.key) throw new UntrustworthyAnswer(`an entry for ${describeWireValue(e.username, 40)} that its own log entry does not support`)
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) throw new UntrustworthyAnswer('an entry without a sequence number')
  try {
    await verifyOperationSignatures(op)
  } catch (err) {
    throw new UntrustworthyAnswer(`"${op.username}": ${(err as Error).message}`)
  }
  return { username: op.username, key: op.key, fingerprint: fingerprint(parseUserId(op.key).publicKey), displayName: op.displayName, operation: op, seq: e.seq as number }
}

function parseAnswer (raw: unknown): SignedOperation {
  try {
    return parseOperation(raw, { replay: true })
  } catch (err) {
    throw new UntrustworthyAnswer(printable((err as Error).message))
  }
}


async function readCapped (res: Response, url: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > MAX_RESPONSE_BYTES) throw new KeyServerUnavailable(url, `its answer is larger than ${MAX_RESPONSE_BYTES} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  if (res.body == null) return ''
  try {
    for await (const chunk of res.body) {
      size += chunk.byteLength
      if (size > MAX_RESPONSE_BYTES) throw new KeyServerUnavailable(url, `its answer is larger than ${MAX_RESPONSE_BYTES} bytes`)
      chunks.push(Buffer.from(chunk))
    }
  } catch (err) {
    if (err instanceof KeyServerUnavailable) throw err
    // the body is read under the request's deadline: a server that stops, or drips bytes, ends here
    const e = err as Error
    throw new KeyServerUnavailable(url, e.name === 'TimeoutError' || e.name === 'AbortError' ? `its answer did not arrive within ${TIMEOUT_MS / 1000} s` : `its answer was cut off (${printable(e.message).slice(0, 100)})`)
  }
  return Buffer.concat(chunks).toString('utf8')
}
