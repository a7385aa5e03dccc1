import type { Connection } from '@libp2p/interface'
import type { ContactBook } from '../contacts/index.js'

/** One open libp2p connection as the local API reports it. */
export interface ConnectionSummary {
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  /** Through a router's relay circuit rather than a direct path. */
  relayed: boolean
}

export interface ConnectionInfo extends ConnectionSummary {
  peerId: string
  /** The contact's local name, or null for DHT peers and strangers. */
  contact: string | null
  openedAt: number
  streams: number
}

export function summarizeConnection (c: Connection): ConnectionSummary {
  return {
    remoteAddr: c.remoteAddr.toString(),
    direction: c.direction,
    relayed: c.remoteAddr.getComponents().some(p => p.name === 'p2p-circuit')
  }
}

export function describeConnection (c: Connection, contacts: ContactBook): ConnectionInfo {
  const peerId = c.remotePeer.toString()
  return {
    peerId,
    contact: contacts.findByPeerId(peerId)?.name ?? null,
    ...summarizeConnection(c),
    openedAt: c.timeline.open,
    streams: c.streams.length
  }
}
