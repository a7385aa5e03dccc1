import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
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
  /** Behind a load balancer: take the client IP from X-Forwarded-For. */
  trustProxy: boolean
  /** A pino logger config; false for none. */
  logger: FastifyServerOptions['logger']
  /** How far an operation's timestamp may be from the server's clock. */
  clockWindowMs: number
}

export const BODY_LIMIT = 16 * 1024
export const DEFAULT_KEYSERVER_OPTIONS = { requestsPerMinute: 600, writesPerMinute: 30, trustProxy: false, clockWindowMs: 5 * 60_000 }

/**
 * The key server as a Fastify app, not yet listening: the v1 routes, per-IP
 * rate limits, a 16 KiB body limit, the OpenAPI document, and one error
 * shape for everything that goes wrong: `{ error: { code, message } }`.
 */
export async function buildKeyServerApp (options: KeyServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger,
    bodyLimit: BODY_LIMIT,
    trustProxy: options.trustProxy,
    forceCloseConnections: 'idle', // graceful close: idle keep-alive sockets go at once, requests in flight finish
    // unknown fields are errors, not silently dropped; no type coercion of the body
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } }
  })
  for (const schema of [operationSchema, entrySchema, errorSchema]) app.addSchema(schema)
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
