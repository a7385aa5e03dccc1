import type { FastifyInstance } from 'fastify'
import { validateServiceName } from '../../session/index.js'
import type { Daemon } from '../daemon.js'
import { ExecFromBrowser, ExposeNotFound, ForwardNotFound } from '../errors.js'
import { checkExecCommand, splitHostPort } from '../host-port.js'
import { MAX_SESSIONS_CAP } from '../exposes.js'

const forwardBody = {
  type: 'object', required: ['port', 'contact', 'service'], additionalProperties: false,
  properties: { port: { type: 'integer', minimum: 0, maximum: 65535 }, contact: { type: 'string', maxLength: 2048 }, service: { type: 'string', maxLength: 64 } }
}
const exposeBody = {
  type: 'object', required: ['service'], additionalProperties: false,
  properties: { service: { type: 'string', maxLength: 64 }, target: { type: 'string', maxLength: 300 }, exec: { type: 'string', maxLength: 4096 }, maxSessions: { type: 'integer', minimum: 1, maximum: MAX_SESSIONS_CAP } }
}

/** /v1/forwards and /v1/exposes: persisted tunnels, started at once and on every daemon start. */
export function registerTunnelRoutes (app: FastifyInstance, daemon: Daemon): void {
  app.get('/v1/forwards', async () => ({ forwards: daemon.forwards.list() }))
  app.post<{ Body: { port: number, contact: string, service: string } }>('/v1/forwards', { schema: { body: forwardBody } }, async (req, reply) => {
    const { contact, service } = req.body
    validateServiceName(service)
    daemon.sessions.resolveTarget(contact) // an unknown contact is refused now, not at first use
    const spec = await daemon.forwards.add({ port: req.body.port, contact, service })
    daemon.forwardTable.put(spec)
    daemon.events.publish('tunnels:changed', { forward: spec })
    return await reply.code(201).send(spec)
  })
  app.delete<{ Params: { port: string } }>('/v1/forwards/:port', async (req) => {
    const port = Number(req.params.port)
    if (!(await daemon.forwards.remove(port))) throw new ForwardNotFound(port)
    daemon.forwardTable.remove(port)
    daemon.events.publish('tunnels:changed', { removedForward: port })
    return { removed: port }
  })

  app.get('/v1/exposes', async () => ({ exposes: daemon.exposes.list() }))
  app.post<{ Body: { service: string, target?: string, exec?: string, maxSessions?: number } }>('/v1/exposes', { schema: { body: exposeBody } }, async (req, reply) => {
    const { service, target, exec, maxSessions } = req.body
    // a page could be made to run commands if it could set one up: that stays with the terminal
    if (exec != null && req.uiSession != null) throw new ExecFromBrowser()
    validateServiceName(service)
    if (exec != null) checkExecCommand(exec)
    const spec = exec != null
      ? { service, kind: 'exec' as const, target: exec, maxSessions }
      : { service, kind: 'tcp' as const, target: target ?? '', maxSessions }
    if (spec.kind === 'tcp') splitHostPort(spec.target)
    daemon.exposes.add(spec)
    daemon.exposeTable.put(spec)
    daemon.events.publish('tunnels:changed', { expose: spec })
    return await reply.code(201).send(spec)
  })
  app.delete<{ Params: { service: string } }>('/v1/exposes/:service', async (req) => {
    if (!daemon.exposes.remove(req.params.service)) throw new ExposeNotFound(req.params.service)
    daemon.exposeTable.remove(req.params.service)
    daemon.events.publish('tunnels:changed', { removedExpose: req.params.service })
    return { removed: req.params.service }
  })
}
