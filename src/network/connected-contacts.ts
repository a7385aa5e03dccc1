import type { Libp2p, PeerId } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

/** The part of kad-dht's routing table this changes: its k-bucket's check of a new contact. */
interface ContactCheck { verify: (contact: { peerId: PeerId }, options?: unknown) => Promise<boolean> }

/**
 * kad-dht pings every new contact before it enters the routing table, even
 * one on a connection that has just opened: TLS, the muxer and identify have
 * shown it alive a moment ago. On a first contact both daemons then open a
 * ping stream on the new connection beside the session's request, and a
 * presence lookup's new DHT peers ping the caller back while it dials.
 *
 * A contact with an open connection is taken as alive; any other is pinged
 * as before. A full bucket's check of its old contacts (the guard against a
 * flood of new ones) is not touched.
 */
export function trustConnectedContacts (node: Pick<Libp2p, 'getConnections'>, dht: KadDHT): void {
  const kb = (dht as unknown as { routingTable?: { kb?: ContactCheck } }).routingTable?.kb
  if (kb == null || typeof kb.verify !== 'function') throw new Error('kad-dht has no routing table k-bucket to adjust; check its version (trustConnectedContacts)')
  const ping = kb.verify
  kb.verify = async (contact, options) => {
    if (node.getConnections(contact.peerId).some(c => c.status === 'open')) return true
    return await ping(contact, options)
  }
}
