import type { FastifyInstance } from 'fastify'
import { parseUserId, fingerprint } from '../../identity/index.js'
import { applyOperation, emptyNameState, type NameState } from '../name-log.js'
import { parseOperation, type SignedOperation } from '../operation.js'
import { usernameSkeleton, validateUsername, validateUsernamePrefix } from '../username.js'
import { InvalidOperation, InvalidQuery, KeyNotFound, ReplayedNonce, StaleHead, StaleTimestamp, UsernameDeleted, UsernameNotFound } from '../errors.js'
import type { StoredName } from '../store/key-store.js'
import type { KeyServerOptions } from './key-server-app.js'
import { routeSchemas } from './schemas.js'
import { MAX_NAMES_PER_KEY, type Entry } from '../entry.js'

/** The v1 HTTP API; see schemas.ts for its shapes and docs/KEYSERVER.md for its rules. */
export function registerKeyServerRoutes (app: FastifyInstance, options: KeyServerOptions): void {
  const { store } = options

  app.get('/health', { schema: routeSchemas.health, config: { rateLimit: false } }, async (req, reply) => {
    try {
      await store.ping()
      return { status: 'ok', store: store.kind }
    } catch (err) {
      req.log.error({ err }, 'store unreachable')
      return await reply.code(503).send({ error: { code: 'STORE_UNAVAILABLE', message: 'the key server cannot reach its store' } })
    }
  })

  app.post<{ Params: { username: string }, Body: unknown }>('/v1/users/:username/log', {
    schema: routeSchemas.append,
    config: { rateLimit: { max: options.writesPerMinute, timeWindow: 60_000 } }
  }, async (req, reply) => {
    const username = validateUsername(req.params.username)
    const op = parseOperation(req.body)
    if (op.username !== username) throw new InvalidOperation(`the operation names "${op.username}" but was sent to "${username}"`)
    const skew = Math.abs(Date.now() - op.timestamp)
    if (skew > options.clockWindowMs) throw new StaleTimestamp(Math.round(skew / 1000), options.clockWindowMs / 1000)
    const stored = await store.get(username)
    let state: NameState
    try {
      state = await applyOperation(stored?.state ?? emptyNameState(username), op)
    } catch (err) {
      // an operation seen before is a replay, whatever else is wrong with it now
      if (err instanceof StaleHead && await store.nonceSeen(op.nonce)) throw new ReplayedNonce()
      throw err
    }
    const skeleton = usernameSkeleton(username)
    let peerId: string | undefined
    let print: string | undefined
    if (state.key != null) {
      const id = parseUserId(state.key)
      peerId = id.peerId.toString()
      print = fingerprint(id.publicKey).replaceAll(' ', '')
    }
    // append checks the nonce, the confusable names and the key's other name in its transaction
    await store.append({ operation: op, state, skeleton, peerId, fingerprint: print, acceptedAt: Date.now() })
    req.log.info({ op: op.op, username, seq: state.seq - 1 }, 'log entry accepted')
    return await reply.code(op.op === 'register' ? 201 : 200).send(toEntry({ state, operation: op, fingerprint: print }))
  })

  app.get<{ Params: { username: string } }>('/v1/users/:username', { schema: routeSchemas.lookup }, async (req) => {
    const username = validateUsername(req.params.username)
    const stored = await store.get(username)
    if (stored == null) throw new UsernameNotFound(username)
    if (stored.state.key == null) throw new UsernameDeleted(username)
    return toEntry(stored)
  })

  app.get<{ Params: { username: string }, Querystring: { from?: string, limit?: string } }>('/v1/users/:username/log', { schema: routeSchemas.log }, async (req) => {
    const username = validateUsername(req.params.username)
    const from = queryInt(req.query.from, 'from', 0, 0, 1e9)
    const limit = queryInt(req.query.limit, 'limit', 100, 1, 200)
    const operations: SignedOperation[] = await store.log(username, from, limit + 1)
    if (operations.length === 0 && from === 0) throw new UsernameNotFound(username)
    const more = operations.length > limit
    return { operations: operations.slice(0, limit), next: more ? from + limit : null }
  })

  app.get<{ Querystring: { prefix: string, after: string, limit?: string } }>('/v1/users', { schema: routeSchemas.search }, async (req) => {
    const prefix = validateUsernamePrefix(req.query.prefix)
    const after = req.query.after
    const limit = queryInt(req.query.limit, 'limit', 20, 1, 100)
    const found = await store.search(prefix, after, limit + 1)
    const page = found.slice(0, limit)
    return { users: page.map(toEntry), next: found.length > limit ? page[page.length - 1].state.username : null }
  })

  app.get<{ Params: { fingerprint: string } }>('/v1/keys/:fingerprint', { schema: routeSchemas.byFingerprint }, async (req) => {
    const found = await store.byFingerprint(req.params.fingerprint, MAX_NAMES_PER_KEY)
    if (found.length === 0) throw new KeyNotFound()
    return { users: found.map(toEntry) }
  })
}

function queryInt (text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text == null) return fallback
  const n = Number(text)
  if (n < min || n > max) throw new InvalidQuery(`"${name}" must be from ${min} to ${max}`)
  return n
}

function toEntry (s: StoredName): Entry {
  const key = s.state.key ?? null
  return {
    username: s.state.username,
    key,
    fingerprint: key == null ? null : s.fingerprint != null ? s.fingerprint.replace(/(\d{5})(?=\d)/g, '$1 ') : fingerprint(parseUserId(key).publicKey),
    displayName: s.state.displayName,
    seq: s.state.seq,
    updatedAt: s.state.updatedAt,
    operation: s.operation
  }
}
