import { timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { CspaceError } from '../errors.js'
import type { Daemon } from './daemon.js'
import { registerStatusRoutes } from './api/status.js'
import { registerContactRoutes } from './api/contacts.js'
import { registerTunnelRoutes } from './api/tunnels.js'
import { registerRequestRoutes } from './api/requests.js'

export interface ApiServer { port: number, close: () => Promise<void> }

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/

/**
 * The local API: HTTP/JSON on 127.0.0.1 only, every request authenticated by
 * the bearer token from the 0600 token file. Requests naming a foreign Host
 * are refused (DNS rebinding). Fastify's logger stays off so the token and
 * request contents are never logged.
 */
export async function startApiServer (components: { daemon: Daemon }, init: { token: string, port: number }): Promise<ApiServer> {
  // unknown fields are errors, not silently dropped (Fastify's default strips them)
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024, ajv: { customOptions: { removeAdditional: false } } })
  const expected = Buffer.from(`Bearer ${init.token}`)

  app.addHook('onRequest', async (req, reply) => {
    if (!LOOPBACK_HOST.test(req.headers.host ?? '')) {
      return await reply.code(403).send({ error: { code: 'FORBIDDEN_HOST', message: 'the local API answers only to 127.0.0.1 or localhost' } })
    }
    const got = Buffer.from(req.headers.authorization ?? '')
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return await reply.code(401).send({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong API token (the CLI reads it from $CSPACE_HOME/api-token)' } })
    }
  })

  app.setErrorHandler(async (err, _req, reply) => {
    if (err instanceof CspaceError) {
      const status = err.code.endsWith('NOT_FOUND') ? 404 : err.exitCode === 2 ? 400 : 409
      return await reply.code(status).send({ error: { code: err.code, message: err.message } })
    }
    const e = err as { statusCode?: number, code?: string, message: string }
    if (e.statusCode != null && e.statusCode >= 400 && e.statusCode < 500) {
      return await reply.code(e.statusCode).send({ error: { code: e.code ?? 'BAD_REQUEST', message: e.message } })
    }
    return await reply.code(500).send({ error: { code: 'INTERNAL', message: e.message } })
  })

  registerStatusRoutes(app, components.daemon)
  registerContactRoutes(app, components.daemon)
  registerTunnelRoutes(app, components.daemon)
  registerRequestRoutes(app, components.daemon)

  await app.listen({ host: '127.0.0.1', port: init.port })
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : init.port
  return { port, close: async () => { await app.close() } }
}
