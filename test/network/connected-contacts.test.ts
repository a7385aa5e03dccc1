import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { trustConnectedContacts } from '../../src/network/connected-contacts.js'
import type { NetworkNode } from '../../src/network/index.js'
import { createLoopbackPair } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

/** A kad-dht stand-in whose k-bucket records the contacts it was asked to ping. */
function fakeDht (answer: boolean): { dht: KadDHT, pinged: PeerId[] } {
  const pinged: PeerId[] = []
  const kb = { verify: async (contact: { peerId: PeerId }) => { pinged.push(contact.peerId); return answer } }
  return { dht: { routingTable: { kb } } as unknown as KadDHT, pinged }
}

function kbOf (dht: KadDHT): { verify: (c: { peerId: PeerId }) => Promise<boolean> } {
  return (dht as unknown as { routingTable: { kb: { verify: (c: { peerId: PeerId }) => Promise<boolean> } } }).routingTable.kb
}

test('a contact on an open connection enters without a ping; any other is pinged, and the ping decides', async () => {
  const connected = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const closing = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const node = {
    getConnections: (p?: PeerId) => p?.equals(connected) === true ? [{ status: 'open' }] : p?.equals(closing) === true ? [{ status: 'closing' }] : []
  }
  for (const answer of [true, false]) {
    const { dht, pinged } = fakeDht(answer)
    trustConnectedContacts(node as never, dht)
    assert.equal(await kbOf(dht).verify({ peerId: connected }), true)
    assert.equal(await kbOf(dht).verify({ peerId: closing }), answer)
    assert.equal(await kbOf(dht).verify({ peerId: stranger }), answer)
    assert.deepEqual(pinged.map(String), [closing, stranger].map(String))
  }
})

test('a kad-dht without the expected routing table is refused at start, with the reason', async () => {
  assert.throws(() => { trustConnectedContacts({ getConnections: () => [] } as never, {} as KadDHT) }, /no routing table k-bucket/)
})

test('two real nodes that connect enter each other\'s routing table without a ping stream', async () => {
  const [a, b] = await createLoopbackPair()
  try {
    const pings: string[] = []
    for (const n of [a, b]) {
      const ping = n.services.ping.ping.bind(n.services.ping)
      n.services.ping.ping = async (...args: Parameters<typeof ping>) => { pings.push(String(args[0])); return await ping(...args) }
    }
    const inTable = async (n: NetworkNode, p: PeerId): Promise<boolean> => (await (n.services.dht as unknown as { routingTable: { find: (p: PeerId) => Promise<PeerId | undefined> } }).routingTable.find(p)) != null
    // client mode keeps a node out of others' tables; both serve, as routers and public users do
    await Promise.all([a.services.dht.setMode('server'), b.services.dht.setMode('server')])
    await a.dial(b.getMultiaddrs()[0])
    await waitFor('each node in the other\'s routing table', async () => await inTable(a, b.peerId) && await inTable(b, a.peerId), 10_000, 20)
    assert.deepEqual(pings, [], 'kad-dht pinged a contact it had an open connection to')
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})
