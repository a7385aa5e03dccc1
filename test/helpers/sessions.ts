import { generateKeyPair } from '@libp2p/crypto/keys'
import type { NetworkNode, PresenceResolver } from '../../src/network/index.js'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { ContactNotFound } from '../../src/contacts/index.js'
import { PromptQueue, ServiceRegistry, SessionManager, type LostPeers, type SessionInit } from '../../src/session/index.js'
import { createLoopbackNode } from './nodes.js'

export interface EchoPair {
  alice: NetworkNode
  bob: NetworkNode
  aliceSessions: SessionManager
  bobSessions: SessionManager
  /** Bob's services, for a test to offer more than `echo`. */
  bobServices: ServiceRegistry
  /** Bob's user ID, for `aliceSessions.connect(bobId, 'echo')`. */
  bobId: string
  stop: () => Promise<void>
}

/** One round trip through bob's echo: what came back. Bob has handled every frame alice sent before it (yamux keeps them in order). */
export async function echoOnce (pair: EchoPair, text: string): Promise<string> {
  const stream = await pair.aliceSessions.connect(pair.bobId, 'echo')
  const reply = new Promise<string>((resolve) => {
    stream.addEventListener('message', (evt) => { resolve(Buffer.from(evt.data.subarray()).toString()) }, { once: true })
  })
  stream.send(Buffer.from(text))
  const got = await reply
  await stream.close()
  return got
}

/**
 * Two session managers on loopback nodes, without daemons: bob offers `echo`
 * (accepts, sends back every chunk, closes when the caller does) to anyone
 * (and whatever a test adds to `bobServices`),
 * alice calls. Neither has contacts or a presence resolver: the test dials.
 * `bobInit`: bob's session settings (e.g. a short acceptTimeoutMs);
 * `aliceLost`/`bobLost`: what each daemon's presence tracker would be told.
 */
export async function startEchoPair (options: { bobInit?: SessionInit, aliceLost?: LostPeers, bobLost?: LostPeers } = {}): Promise<EchoPair> {
  const bobKey = await generateKeyPair('Ed25519')
  const [alice, bob] = await Promise.all([createLoopbackNode(), createLoopbackNode({}, bobKey)])
  const noContacts = { get: (name: string) => { throw new ContactNotFound(name) }, findByPeerId: () => undefined }
  const noResolver = {} as unknown as PresenceResolver
  const services = new ServiceRegistry()
  services.register('echo', async (request) => {
    const stream = await request.accept()
    for await (const chunk of stream) stream.send(chunk)
    await stream.close()
  }, 'a test')
  const bobSessions = new SessionManager({ node: bob, resolver: noResolver, contacts: noContacts, rules: () => [{ action: 'allow', who: { kind: 'anyone' }, service: '*' }], prompts: new PromptQueue(), services, lostPeers: options.bobLost }, options.bobInit)
  const aliceSessions = new SessionManager({ node: alice, resolver: noResolver, contacts: noContacts, rules: () => [], prompts: new PromptQueue(), services: new ServiceRegistry(), lostPeers: options.aliceLost })
  await Promise.all([bobSessions.start(), aliceSessions.start()])
  return {
    alice,
    bob,
    aliceSessions,
    bobSessions,
    bobServices: services,
    bobId: userIdFromPublicKey(bobKey.publicKey).text,
    stop: async () => {
      await Promise.all([aliceSessions.stop(), bobSessions.stop()])
      await Promise.all([alice.stop(), bob.stop()])
    }
  }
}
