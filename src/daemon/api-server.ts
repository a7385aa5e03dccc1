import type { IncomingMessage } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import type { WebSocket } from 'ws'
import fastifyCookie from '@fastify/cookie'
import fastifyWebsocket from '@fastify/websocket'
import { CspaceError } from '../errors.js'
import { ApiPortInUse } from './errors.js'
import type { Daemon } from './daemon.js'
import { registerStatusRoutes } from './api/status.js'
import { registerContactRoutes } from './api/contacts.js'
import { registerTunnelRoutes } from './api/tunnels.js'
import { registerRequestRoutes } from './api/requests.js'
import { registerKeyServerRoutes } from './api/keyserver.js'
import { registerUiRoutes } from './api/ui.js'
import { registerUiPages } from './api/ui-pages.js'
import { registerEventStream } from './api/events-ws.js'
import { registerAppControlBridge } from './api/app-control-ws.js'
import { registerAppUploads } from './api/app-uploads.js'
import { registerConnectStream } from './api/connect-ws.js'
import { checkCaller, KEY_WS_PROTOCOL_PREFIX, refuse, UI_WS_PROTOCOL } from './api-auth.js'
import { UiSessions, type UiSession } from './ui-sessions.js'

/** 1 MiB: the apps' control lines (apps/host CONTROL_MAX_LINE). */
export const MAX_WS_MESSAGE_BYTES = 1024 * 1024

/** The close code of a UI WebSocket whose session ended (logout): 4000 + 401, as the connect socket's codes. */
export const UI_SESSION_ENDED_CLOSE = 4401

export interface ApiServer { port: number, close: () => Promise<void> }

/**
 * The local API: HTTP/JSON on 127.0.0.1 only, every request authenticated by
 * the bearer token from the 0600 token file, or by the web UI's session
 * cookie with its origin and CSRF checks (api-auth.ts). Requests naming a
 * foreign Host are refused (DNS rebinding). Fastify's logger stays off so the
 * token and request contents are never logged.
 */
export async function startApiServer (components: { daemon: Daemon }, init: { token: string, port: number }): Promise<ApiServer> {
  // unknown fields are errors, not silently dropped (Fastify's default strips them)
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // a socket with nothing moving for two minutes holds a connection for no one (an upload that moves is fine;
    // a WebSocket is exempt: ws turns the socket's timeout off)
    connectionTimeout: 120_000,
    // headers within 10 s, checked every 2 s (Node's defaults: 60 s, checked every 30 s)
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 2_000 },
    // on stop, open connections are cut rather than waited for (a held request made the daemon's stop take its whole 20 s)
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false } }
  })
  const token = Buffer.from(`Bearer ${init.token}`)
  const sessions = new UiSessions()
  let port = init.port

  await app.register(fastifyCookie) // parses cookies in an onRequest hook, ahead of the one below
  // the largest message any WebSocket route takes (an app's control line); each route checks its own limit below that
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: MAX_WS_MESSAGE_BYTES,
      // the UI's sockets offer UI_WS_PROTOCOL and their session key as subprotocols, and a browser fails a socket whose
      // server picks none; other clients get their first choice, as ws would give it (older VNC viewers ask for "binary")
      handleProtocols: (offered: Set<string>) => offered.has(UI_WS_PROTOCOL) ? UI_WS_PROTOCOL : [...offered].find(p => !p.startsWith(KEY_WS_PROTOCOL_PREFIX)) ?? false
    }
  })
  // the cookie is checked once, at the upgrade: a WebSocket the UI opened must then end with its session (logout, expiry)
  const uiSocketSessions = new WeakMap<IncomingMessage, UiSession>()
  app.addHook('onRequest', async (req, reply) => {
    const refusal = checkCaller(req, { token, sessions, port })
    if (refusal != null) return await refuse(reply, refusal)
    if (req.uiSession != null && req.ws) uiSocketSessions.set(req.raw, req.uiSession)
  })
  app.websocketServer.on('connection', (ws: WebSocket, raw: IncomingMessage) => {
    const session = uiSocketSessions.get(raw)
    if (session == null) return
    const forget = sessions.onEnd(session, () => { ws.close(UI_SESSION_ENDED_CLOSE, 'logged out') })
    ws.once('close', forget)
  })

  app.setErrorHandler(async (err, _req, reply) => {
    if (err instanceof CspaceError) {
      const status = err.code.endsWith('NOT_FOUND') ? 404 : err.code.startsWith('FORBIDDEN') ? 403 : err.exitCode === 2 ? 400 : 409
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
  registerKeyServerRoutes(app, components.daemon)
  registerUiRoutes(app, sessions, () => port)
  await registerUiPages(app)
  registerEventStream(app, components.daemon.events)
  registerAppControlBridge(app, components.daemon.paths.home)
  await registerAppUploads(app, components.daemon.paths.home)
  registerConnectStream(app, components.daemon)

  try {
    await app.listen({ host: '127.0.0.1', port: init.port })
  } catch (err) {
    await app.close().catch(() => {})
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ApiPortInUse(init.port)
    throw err
  }
  const addr = app.server.address()
  port = typeof addr === 'object' && addr != null ? addr.port : init.port
  return { port, close: async () => { await app.close() } }
}
