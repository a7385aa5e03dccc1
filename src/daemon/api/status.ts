import type { FastifyInstance } from 'fastify'
import type { Daemon } from '../daemon.js'
import { describeConnection } from '../connection-info.js'
import { isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { isRelayed, relayedBytes } from '../../network/index.js'

const statusQuery = { type: 'object', additionalProperties: false, properties: { presenceWaitMs: { type: 'integer', minimum: 0, maximum: 5000 } } }
const hangupBody = { type: 'object', required: ['user'], additionalProperties: false, properties: { user: { type: 'string', maxLength: 2048 } } }

/** GET /v1/status: this node, its presence, contacts' presence, tunnels, pending requests; GET /v1/connections; POST /v1/hangup; GET /v1/events. */
export function registerStatusRoutes (app: FastifyInstance, daemon: Daemon): void {
  // presenceWaitMs=0 (the web UI): answer at once; contacts not looked up yet are "checking", and presence:checked follows
  app.get<{ Querystring: { presenceWaitMs?: number } }>('/v1/status', { schema: { querystring: statusQuery } }, async (req) => {
    const contacts = await daemon.tracker.snapshot(daemon.contacts.list(), req.query.presenceWaitMs ?? 5000)
    const dht = daemon.node.services.dht
    const addresses = daemon.listenAddresses()
    return {
      user: { userId: daemon.userId, peerId: daemon.node.peerId.toString(), fingerprint: daemon.fingerprint },
      node: {
        router: daemon.router,
        addresses,
        // nothing to publish: every address is loopback or LAN, and those are kept out of presence
        onlyPrivateAddresses: !daemon.config.network.allowPrivateAddresses && addresses.every(a => isRelayed(a) || isPrivate(multiaddr(a))),
        dhtMode: dht.getMode(),
        connections: daemon.node.getConnections().length,
        isolated: daemon.isolated ?? null,
        reachability: daemon.node.services.reachability?.reachability ?? 'unknown',
        relaySlots: daemon.relaySlots(),
        relayedFor: daemon.node.services.relay?.reservations.size ?? null,
        relayedBytes: relayedBytes(daemon.node)
      },
      presence: daemon.publisher.last ?? null,
      contacts,
      forwards: daemon.forwards.list(),
      exposes: daemon.exposes.list(),
      requests: daemon.prompts.list()
    }
  })

  app.get('/v1/connections', async () => {
    const open = daemon.node.getConnections().filter(c => c.status === 'open')
    return { connections: open.map(c => describeConnection(c, daemon.contacts)) }
  })

  app.post<{ Body: { user: string } }>('/v1/hangup', { schema: { body: hangupBody } }, async (req) => {
    return { closed: await daemon.sessions.hangUp(req.body.user) }
  })

  app.get<{ Querystring: { since?: string } }>('/v1/events', async (req) => {
    const since = Number(req.query.since ?? '0')
    return { events: daemon.events.since(Number.isFinite(since) ? since : 0) }
  })
}
