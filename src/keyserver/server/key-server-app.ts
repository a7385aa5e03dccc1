import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import rateLimit from '@fastify/rate-limit'
import { CspaceError } from '../../errors.js'
import type { KeyStore } from '../store/key-store.js'
import { entrySchema, errorSchema, operationSchema } from './schemas.js'
import { registerKeyServerRoutes } from './routes.js'

export interface KeyServerOptions {
  store: KeyStore
  /** Requests per minute per client IP, reads and writes together. */
  requestsPerMinute: number
  /** Writes (signed operations) per minute per client IP. */
  writesPerMinute: number
  /**
   * Behind a load balancer: the proxies whose X-Forwarded-For is believed,
   * as a hop count or addresses/CIDRs; false for none. Never "all": the
   * left-most entry is the client's to choose, and rate limits key on it.
   */
  trustProxy: false | number | string[]
  /** A pino logger config; false for none. */
  logger: FastifyServerOptions['logger']
  /** How far an operation's timestamp may be from the server's clock. */
  clockWindowMs: number
}

export const BODY_LIMIT = 16 * 1024
export const DEFAULT_KEYSERVER_OPTIONS: Omit<KeyServerOptions, 'store' | 'logger'> = { requestsPerMinute: 600, writesPerMinute: 30, trustProxy: false, clockWindowMs: 5 * 60_000 }

/**
 * The key server as a Fastify app, not yet listening: the v1 routes, per-IP
 * rate limits, a 16 KiB body limit, the OpenAPI document, and one error
 * shape for everything that goes wrong: `{ error: { code, message } }`.
 */
export async function buildKeyServerApp (options: KeyServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger,
    bodyLimit: BODY_LIMIT,
    trustProxy: typeof options.trustProxy === 'number' ? trustHops(options.trustProxy) : options.trustProxy,
    // a body trickled in, or a socket left idle, holds a connection for no one: one that sends
    // nothing goes at headersTimeout (10 s), one idle between requests at keepAliveTimeout
    requestTimeout: 10_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 30_000,
    // given to Node when it creates the server, where they take effect (set later, as
    // Fastify does, requestTimeout was never enforced); checked every 2 s, not 30 s
    http: { requestTimeout: 10_000, headersTimeout: 10_000, connectionsCheckingInterval: 2_000 },
    frameworkErrors: badUrl,
    forceCloseConnections: 'idle', // graceful close: idle keep-alive sockets go at once, requests in flight finish
    // unknown fields are errors, not silently dropped; no type coercion of the body
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } }
  })
  for (const schema of [operationSchema, entrySchema, errorSchema]) app.addSchema(schema)
  app.removeContentTypeParser('text/plain') // only JSON bodies: anything else is a 415
  await app.register(swagger, {
    openapi: {
      info: { title: 'cspace key server', version: '1', description: 'Publish and find cspace users\' keys by username. Every write is signed by the key it concerns, and every answer carries the signed log entry behind it, so clients need not trust the server.' }
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` }
  })
  await app.register(rateLimit, {
    global: true,
    max: options.requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => rateLimitKey(req.ip),
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'RATE_LIMITED', message: `too many requests from your address; retry in ${ctx.after}` })
  })

  app.setErrorHandler(async (err, req, reply) => {
    if (err instanceof CspaceError) {
      const status = (err as { status?: number }).status ?? (err.exitCode === 2 ? 400 : 500)
      return await reply.code(status).send({ error: { code: err.code, message: err.message } })
    }
    const e = err as { statusCode?: number, code?: string, message: string, validation?: unknown }
    if (e.statusCode != null && e.statusCode >= 400 && e.statusCode < 500) {
      return await reply.code(e.statusCode).send({ error: { code: clientErrorCode(e), message: e.message } })
    }
    req.log.error({ err }, 'request failed')
    return await reply.code(500).send({ error: { code: 'INTERNAL', message: 'the key server failed; nothing was changed; try again later' } })
  })
  app.setNotFoundHandler(async (req, reply) => {
    return await reply.code(404).send({ error: { code: 'NO_SUCH_ROUTE', message: `no ${req.method} ${req.url.split('?')[0].slice(0, 100)}; the API is described at /openapi.json` } })
  })

  registerKeyServerRoutes(app, options)
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  return app
}

/**
 * The address a rate limit counts: an IPv4 address, or an IPv6 address's
 * /64 — one household or server gets a /64, and counting per /128 would give
 * it 2^64 budgets.
 */
export function rateLimitKey (ip: string): string {
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip.replace(/^::ffff:/, '')
  const [head, tail = ''] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return groups.slice(0, 4).map(g => parseInt(g, 16).toString(16)).join(':') + '::/64'
}

/** The last `hops` proxies before us are ours: believe what they add to X-Forwarded-For, and no more. */
function trustHops (hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops
}

/** Errors Fastify meets before routing (a URL that is not valid percent-encoding), in our error shape. */
function badUrl (err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  void reply.code(400).send({ error: { code: 'BAD_REQUEST', message: err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoding' : 'malformed request' } })
}

/** Fastify's own 4xx (bad JSON, body too large, schema) get stable codes of ours. */
function clientErrorCode (e: { statusCode?: number, code?: string, validation?: unknown }): string {
  if (e.validation != null) return 'INVALID_REQUEST'
  if (e.code === 'RATE_LIMITED') return e.code
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'BODY_TOO_LARGE'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'UNSUPPORTED_MEDIA_TYPE'
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return 'MALFORMED_JSON'
    default: return e.statusCode === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST'
  }
}
