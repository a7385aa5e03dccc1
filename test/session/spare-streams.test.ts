import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { createLoopbackNode } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import type { NetworkNode, PresenceResolver } from '../../src/network/index.js'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { ContactNotFound } from '../../src/contacts/index.js'
import { CONNECT_PROTOCOL, PromptQueue, ServiceRegistry, SessionManager } from '../../src/session/index.js'
import { SPARES_PER_CONNECTION } from '../../src/session/spare-streams.js'

/** Echoes one chunk back and closes. */
async function echoOnce (stream: Stream, text: string): Promise<string> {
  stream.send(Buffer.from(text))
  const chunks: Buffer[] = []
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk.subarray()))
    if (Buffer.concat(chunks).length >= text.length) break
  }
  await stream.close()
  return Buffer.concat(chunks).toString()
}

/**
 * Spare connect streams (session/spare-streams.ts): after a connect, streams
 * are negotiated ahead for the next ones, which take them and skip the
 * multistream-select round trip; a stopped manager leaves none behind.
 */
describe('spare connect streams', () => {
  let alice: NetworkNode
  let bob: NetworkNode
  let aliceSessions: SessionManager
  let bobSessions: SessionManager
  let bobId: string

  before(async () => {
    const bobKey = await generateKeyPair('Ed25519')
    bobId = userIdFromPublicKey(bobKey.publicKey).text
    ;[alice, bob] = await Promise.all([createLoopbackNode(), createLoopbackNode({}, bobKey)])
    const noContacts = { get: (name: string) => { throw new ContactNotFound(name) }, findByPeerId: () => undefined }
    const noResolver = {} as unknown as PresenceResolver // connections are dialled by the test
    const services = new ServiceRegistry()
    services.register('echo', async (request) => {
      const stream = await request.accept()
      for await (const chunk of stream) stream.send(chunk)
      await stream.close()
    })
    bobSessions = new SessionManager({ node: bob, resolver: noResolver, contacts: noContacts, rules: () => [{ action: 'allow', who: { kind: 'anyone' }, service: 'echo' }], prompts: new PromptQueue(), services })
    aliceSessions = new SessionManager({ node: alice, resolver: noResolver, contacts: noContacts, rules: () => [], prompts: new PromptQueue(), services: new ServiceRegistry() })
    await Promise.all([bobSessions.start(), aliceSessions.start()])
    await alice.dial(bob.getMultiaddrs()[0])
  })

  after(async () => {
    await Promise.all([aliceSessions?.stop(), bobSessions?.stop()])
    await Promise.all([alice?.stop(), bob?.stop()])
  })

  const connectStreams = (): Stream[] => alice.getConnections(bob.peerId).flatMap(c => c.streams).filter(s => s.protocol === CONNECT_PROTOCOL && s.status === 'open')

  /** Alice's open outbound streams to bob, negotiated or not. */
  const outbound = (): Stream[] => alice.getConnections(bob.peerId).flatMap(c => c.streams).filter(s => s.direction === 'outbound' && s.status === 'open')
  /** Once the only outbound streams besides `except` are SPARES_PER_CONNECTION negotiated spares: those. */
  const spares = async (what: string, except?: Stream): Promise<Stream[]> => await waitFor(what, () => {
    const s = outbound().filter(x => x.id !== except?.id)
    return s.length === SPARES_PER_CONNECTION && s.every(x => x.protocol === CONNECT_PROTOCOL) ? s : undefined
  })

  test('the next connect takes a stream negotiated after the previous one; two are kept', async () => {
    const first = await aliceSessions.connect(bobId, 'echo')
    const ready = await spares('the spares', first)
    assert.equal(await echoOnce(first, 'one'), 'one')
    const second = await aliceSessions.connect(bobId, 'echo')
    assert.ok(ready.some(s => s.id === second.id), 'a spare carried the second session')
    assert.equal(await echoOnce(second, 'two'), 'two')
    const next = await spares('the spares topped up', second)
    assert.ok(next.some(s => !ready.includes(s)), 'a new one replaced the one taken')
    assert.equal(outbound().filter(s => s.id !== second.id).length, SPARES_PER_CONNECTION, 'never more')
  })

  test('spares that died are not used; the connect opens a fresh stream', async () => {
    const dead = await spares('the spares')
    for (const s of dead) s.abort(new Error('test: the spare is gone'))
    const stream = await aliceSessions.connect(bobId, 'echo')
    assert.ok(!dead.some(s => s.id === stream.id))
    assert.equal(await echoOnce(stream, 'fresh'), 'fresh')
  })

  test('an early session opens its spare only once told its first reply came', async () => {
    const previous = await spares('the spares the previous tests left')
    const { stream, accepted, onReply } = await aliceSessions.connectEarly(bobId, 'echo')
    assert.ok(previous.some(s => s.id === stream.id), 'a spare carries it')
    stream.send(Buffer.from('early'))
    await accepted
    assert.deepEqual(outbound().map(s => s.id).sort(), previous.map(s => s.id).sort(), 'no new spare while the first round trip is under way')
    onReply()
    onReply() // once is enough
    await spares('the spares topped up', stream)
    assert.equal(await echoOnce(stream, ''), 'early')
    assert.equal(outbound().filter(s => s.id !== stream.id).length, SPARES_PER_CONNECTION, 'however often onReply is called')
  })

  test('stopping the session manager closes its spares', async () => {
    await waitFor('a spare stream', () => connectStreams().length > 0)
    await aliceSessions.stop()
    await waitFor('no connect stream left', () => connectStreams().length === 0)
  })
})
