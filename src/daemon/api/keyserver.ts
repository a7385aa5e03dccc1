import { existsSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { UsageError } from '../../errors.js'
import { loadConfig } from '../../store/index.js'
import { KeyServerClient, addContactFromKeyServer, verifyPinnedContact, type UseBook } from '../../keyserver/client/index.js'
import type { Daemon } from '../daemon.js'

const searchQuery = { type: 'object', required: ['prefix'], additionalProperties: false, properties: { prefix: { type: 'string', minLength: 1, maxLength: 64 }, after: { type: 'string', maxLength: 64 } } }
const fromKeyServerBody = { type: 'object', required: ['name', 'username'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 256 }, username: { type: 'string', maxLength: 64 } } }
const checkBody = { type: 'object', additionalProperties: false, properties: { accept: { type: 'boolean' } } }
const verifiedBody = { type: 'object', required: ['verified'], additionalProperties: false, properties: { verified: { type: 'boolean' } } }

/**
 * The key server, for the web UI (the CLI talks to it directly): search,
 * add a contact from it (verified and pinned), check a pinned contact for
 * key changes; and marking a contact verified after comparing fingerprints.
 * The server is config.json's "keyserver", read per request so that setting
 * it needs no restart.
 */
export function registerKeyServerRoutes (app: FastifyInstance, daemon: Daemon): void {
  const client = (): KeyServerClient => {
    const url = existsSync(daemon.paths.config) ? loadConfig(daemon.paths.config).keyserver : undefined
    if (url == null) throw new UsageError('no key server set: put its URL under "keyserver" in config.json', 'NO_KEYSERVER')
    return new KeyServerClient(url)
  }
  const useBook: UseBook = (fn) => fn(daemon.contacts)

  app.get<{ Querystring: { prefix: string, after?: string } }>('/v1/keyserver/search', { schema: { querystring: searchQuery } }, async (req) => {
    const ks = client()
    const page = await ks.search(req.query.prefix.trim(), req.query.after ?? '', 20)
    return { keyserver: ks.url, users: page.users.map(e => ({ username: e.username, displayName: e.displayName, userId: e.key, fingerprint: e.fingerprint })), next: page.next }
  })

  app.post<{ Body: { name: string, username: string } }>('/v1/contacts/from-keyserver', { schema: { body: fromKeyServerBody } }, async (req, reply) => {
    const { contact } = await addContactFromKeyServer(useBook, client(), req.body.name, req.body.username)
    daemon.events.publish('contact:added', contact)
    return await reply.code(201).send(contact)
  })

  app.post<{ Params: { name: string }, Body: { accept?: boolean } }>('/v1/contacts/:name/check', { schema: { body: checkBody } }, async (req) => {
    const contact = daemon.contacts.get(req.params.name)
    if (contact.keyserver == null) throw new UsageError(`${contact.name} was added by ID, not from a key server; compare fingerprints with them to verify`, 'NOT_FROM_KEYSERVER')
    const verdict = await verifyPinnedContact(useBook, contact, req.body?.accept === true)
    if (req.body?.accept === true && verdict.ok) daemon.events.publish('contact:changed', daemon.contacts.get(contact.name))
    return verdict
  })

  app.post<{ Params: { name: string }, Body: { verified: boolean } }>('/v1/contacts/:name/verified', { schema: { body: verifiedBody } }, async (req) => {
    const contact = daemon.contacts.setVerified(req.params.name, req.body.verified)
    daemon.events.publish('contact:changed', contact)
    return contact
  })
}
