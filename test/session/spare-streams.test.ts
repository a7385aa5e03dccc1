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
 * Spare connect streams (session/spare-streams.ts): after a connect, one
 * stream is negotiated ahead for the next, which takes it and skips the
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

  test('the next connect takes the stream negotiated after the previous one', async () => {
    const first = await aliceSessions.connect(bobId, 'echo')
    const spare = await waitFor('a spare stream', () => connectStreams().find(s => s.id !== first.id))
    assert.equal(await echoOnce(first, 'one'), 'one')
    const second = await aliceSessions.connect(bobId, 'echo')
    assert.equal(second.id, spare.id, 'the spare carried the second session')
    assert.equal(await echoOnce(second, 'two'), 'two')
    const next = await waitFor('a new spare', () => connectStreams().find(s => s.id !== second.id))
    assert.notEqual(next.id, spare.id)
    assert.equal(connectStreams().filter(s => s.id !== second.id).length, 1, 'one spare per connection, never more')
  })

  test('a spare that died is not used; the connect opens a fresh stream', async () => {
    const spare = await waitFor('a spare stream', () => connectStreams().find(s => s.direction === 'outbound'))
    spare.abort(new Error('test: the spare is gone'))
    const stream = await aliceSessions.connect(bobId, 'echo')
    assert.notEqual(stream.id, spare.id)
    assert.equal(await echoOnce(stream, 'fresh'), 'fresh')
  })

  test('an early session opens its spare only once told its first reply came', async () => {
    // the spare the previous tests left, once their sessions are gone and it is negotiated: this session takes it
    const outbound = (): Stream[] => alice.getConnections(bob.peerId).flatMap(c => c.streams).filter(s => s.direction === 'outbound' && s.status === 'open')
    const [previous] = await waitFor('only a negotiated spare left', () => outbound().length === 1 && outbound()[0].protocol === CONNECT_PROTOCOL ? outbound() : undefined)
    const { stream, accepted, onReply } = await aliceSessions.connectEarly(bobId, 'echo')
    assert.equal(stream.id, previous.id)
    stream.send(Buffer.from('early'))
    await accepted
    assert.deepEqual(outbound().map(s => s.id), [stream.id], 'no spare while the first round trip is under way')
    onReply()
    onReply() // once is enough
    const spare = await waitFor('the spare', () => outbound().find(s => s.id !== stream.id))
    assert.equal(await echoOnce(stream, ''), 'early')
    assert.equal(outbound().filter(s => s.id !== stream.id && s.id !== spare.id).length, 0, 'one spare, however often onReply is called')
  })

  test('stopping the session manager closes its spare', async () => {
    await waitFor('a spare stream', () => connectStreams().length > 0)
    await aliceSessions.stop()
    await waitFor('no connect stream left', () => connectStreams().length === 0)
  })
})
