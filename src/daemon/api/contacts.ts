import type { FastifyInstance } from 'fastify'
import type { Daemon } from '../daemon.js'
import { renameContactEverywhere, stillNaming } from '../contact-rename.js'
import { refuseOwnId } from '../../contacts/index.js'

const nameBody = { type: 'object', required: ['name', 'userId'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 256 }, userId: { type: 'string', maxLength: 2048 } } }
const renameBody = { type: 'object', required: ['newName'], additionalProperties: false, properties: { newName: { type: 'string', maxLength: 256 } } }

/** /v1/contacts: the address book, through the same ContactBook the CLI uses; /v1/profile/changed: re-read it. */
export function registerContactRoutes (app: FastifyInstance, daemon: Daemon): void {
  app.get('/v1/contacts', async () => ({ contacts: daemon.contacts.list() }))
  app.post<{ Body: { name: string, userId: string } }>('/v1/contacts', { schema: { body: nameBody } }, async (req, reply) => {
    // the CLI checks this itself; the web UI and other API clients are told here
    refuseOwnId(req.body.userId, daemon.node.peerId)
    const contact = daemon.contacts.add(req.body.name, req.body.userId)
    daemon.events.publish('contact:added', contact)
    return await reply.code(201).send(contact)
  })
  // `stillNamedBy`: rules and saved forwards that keep the name, for whoever is given it next
  app.delete<{ Params: { name: string } }>('/v1/contacts/:name', async (req) => {
    const contact = daemon.contacts.remove(req.params.name)
    daemon.sessions.endSessionsFrom(contact.peerId)
    daemon.events.publish('contact:removed', contact)
    return { ...contact, stillNamedBy: stillNaming({ rules: daemon.rules, forwards: daemon.forwardTable }, contact.name) }
  })
  // another process wrote the store (the CLI adds contacts directly): re-read it now, not at the watcher's next look
  app.post('/v1/profile/changed', async (_req, reply) => {
    daemon.storeChanged()
    return await reply.code(204).send()
  })
  // the contact's rules and forwards follow: `moved` says how many
  app.post<{ Params: { name: string }, Body: { newName: string } }>('/v1/contacts/:name/rename', { schema: { body: renameBody } }, async (req) => {
    const { contact, rules, forwards } = renameContactEverywhere({ store: daemon.store, contacts: daemon.contacts, rules: daemon.rules, forwards: daemon.forwardTable }, req.params.name, req.body.newName)
    daemon.forwards.renameContact(req.params.name, contact.name)
    daemon.events.publish('contact:renamed', { from: req.params.name, contact })
    if (rules > 0) daemon.events.publish('rules:changed', { renamed: { from: req.params.name, to: contact.name } })
    return { ...contact, moved: { rules, forwards } }
  })
}
