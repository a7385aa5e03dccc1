import type { FastifyInstance } from 'fastify'
import { BUILT_IN_RULES, formatRule, parseRule } from '../../session/index.js'
import type { Daemon } from '../daemon.js'

const decisionBody = { type: 'object', required: ['decision'], additionalProperties: false, properties: { decision: { enum: ['allow', 'deny'] } } }
const ruleBody = {
  type: 'object', required: ['action', 'who', 'service'], additionalProperties: false,
  properties: { action: { type: 'string', maxLength: 16 }, who: { type: 'string', maxLength: 256 }, service: { type: 'string', maxLength: 64 }, position: { type: 'integer', minimum: 0 } }
}

/** /v1/requests (pending prompts) and /v1/rules (who may use which service). */
export function registerRequestRoutes (app: FastifyInstance, daemon: Daemon): void {
  app.get('/v1/requests', async () => ({ requests: daemon.prompts.list() }))
  app.post<{ Params: { id: string }, Body: { decision: 'allow' | 'deny' } }>('/v1/requests/:id', { schema: { body: decisionBody } }, async (req) => {
    return daemon.prompts.answer(req.params.id, req.body.decision)
  })

  // the built-ins are checked after the user's rules, and cannot be removed
  app.get('/v1/rules', async () => ({ rules: daemon.rules.list(), entries: daemon.rules.entries(), builtIn: BUILT_IN_RULES.map(formatRule) }))
  app.post<{ Body: { action: string, who: string, service: string, position?: number } }>('/v1/rules', { schema: { body: ruleBody } }, async (req, reply) => {
    const rule = parseRule(req.body.action, req.body.who, req.body.service)
    // a rule for a name no contact has would never match: most likely a typo
    if (rule.who.kind === 'contact') daemon.contacts.get(rule.who.name)
    const entry = daemon.rules.add(rule, req.body.position)
    daemon.sessions.endSessionsNowDenied()
    daemon.events.publish('rules:changed', { added: entry })
    return await reply.code(201).send(entry)
  })
  app.delete<{ Params: { id: string } }>('/v1/rules/:id', async (req) => {
    const removed = daemon.rules.remove(Number(req.params.id))
    daemon.sessions.endSessionsNowDenied() // an allow taken away lets a later rule or a built-in deny
    daemon.events.publish('rules:changed', { removed })
    return removed
  })
}
