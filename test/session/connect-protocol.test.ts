import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import type { NetworkNode } from '../../src/network/index.js'
import { createLoopbackNode } from '../helpers/nodes.js'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { CONNECT_PROTOCOL, ConnectStatus, encodeRequest, readResponse } from '../../src/session/index.js'
import { cleanupAll, makeProfile, runCli, startDaemon, type RunningDaemon } from '../helpers/cli.js'

/** Reads everything the daemon sends until it closes its side (bounded). */
async function readAll (stream: Stream, limit = 1 << 20): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of stream) {
    const b = Buffer.from(chunk.subarray())
    parts.push(b)
    n += b.length
    if (n > limit) break
  }
  return Buffer.concat(parts)
}

/**
 * A hand-driven libp2p peer speaks the connect protocol to a real daemon:
 * malformed, truncated and oversized frames get a status (or a reset), and
 * the daemon keeps serving well-formed requests afterwards.
 */
describe('connect protocol against a real daemon', () => {
  let bob: RunningDaemon
  let bobHome: string
  let peer: NetworkNode
  let stranger: NetworkNode

  before(async () => {
    const profile = await makeProfile('bob')
    bobHome = profile.home
    assert.equal((await runCli(bobHome, ['expose', 'echo', '--exec', 'cat'])).code, 0)
    const key = await generateKeyPair('Ed25519')
    assert.equal((await runCli(bobHome, ['contacts', 'add', 'tester', userIdFromPublicKey(key.publicKey).text])).code, 0)
    bob = await startDaemon(bobHome)
    // dialers only: they listen nowhere
    peer = await createLoopbackNode({ listen: [] }, key)
    stranger = await createLoopbackNode({ listen: [] })
    await peer.start()
    await stranger.start()
  })

  after(async () => {
    await peer?.stop()
    await stranger?.stop()
    await cleanupAll()
  })

  async function open (node: NetworkNode = peer): Promise<Stream> {
    return await node.dialProtocol(multiaddr(bob.addresses[0]), CONNECT_PROTOCOL)
  }

  async function statusAfter (bytes: Uint8Array, node?: NetworkNode): Promise<number | undefined> {
    const s = await open(node)
    s.send(bytes)
    await s.close()
    const reply = await readAll(s)
    return reply.length >= 2 ? reply[1] : undefined
  }

  test('an unknown protocol version is refused with UnsupportedVersion', async () => {
    assert.equal(await statusAfter(Buffer.from([9, 4, 0x65, 0x63, 0x68, 0x6f])), ConnectStatus.UnsupportedVersion)
  })

  test('empty and oversized service names are refused with BadRequest', async () => {
    assert.equal(await statusAfter(Buffer.from([1, 0])), ConnectStatus.BadRequest)
    assert.equal(await statusAfter(Buffer.concat([Buffer.from([1, 200]), Buffer.alloc(200, 0x61)])), ConnectStatus.BadRequest)
  })

  test('a malformed service name is refused with BadRequest', async () => {
    assert.equal(await statusAfter(Buffer.from([1, 3, 0x41, 0x20, 0x2f])), ConnectStatus.BadRequest)
  })

  test('garbage of 256 KiB gets a refusal or a reset, not a crash', async () => {
    let status: number | undefined
    try {
      status = await statusAfter(Buffer.alloc(256 * 1024, 0xab))
    } catch (err) {
      // the daemon answered the first frame and reset the stream while the rest
      // was still arriving: libp2p rejects our close() or read with the reset
      assert.ok(err instanceof Event || /reset/i.test(String((err as Error).message)), `unexpected ${String(err)}`)
      return
    }
    assert.ok(status === ConnectStatus.UnsupportedVersion || status === undefined, `status ${String(status)}`)
  })

  test('a truncated request (EOF mid-frame) is dropped without a session', async () => {
    const s = await open()
    s.send(Buffer.from([1, 10, 0x65, 0x63]))
    await s.close()
    const reply = await readAll(s)
    assert.ok(reply.length === 0 || reply[1] !== ConnectStatus.Ok, 'no OK for a truncated request')
  })

  test('a stranger is refused, and cannot tell existing services from missing ones', async () => {
    assert.equal(await statusAfter(encodeRequest('echo'), stranger), ConnectStatus.NotAllowed)
    assert.equal(await statusAfter(encodeRequest('no-such-service'), stranger), ConnectStatus.NotAllowed)
  })

  test('after all that, the daemon still serves a contact: echo round trip with half-close', async () => {
    const s = await open()
    s.send(encodeRequest('echo'))
    const { response, stream } = await readResponse(s, AbortSignal.timeout(10_000))
    assert.equal(response.status, ConnectStatus.Ok)
    const payload = Buffer.alloc(3 * 1024 * 1024, 7)
    for (let off = 0; off < payload.length; off += 64 * 1024) {
      if (!stream.send(payload.subarray(off, off + 64 * 1024))) await stream.onDrain()
    }
    await stream.close()
    const echoed = await readAll(stream, 8 * 1024 * 1024)
    assert.equal(echoed.length, payload.length)
    assert.ok(echoed.equals(payload))
    const missing = await statusAfter(encodeRequest('no-such-service'))
    assert.equal(missing, ConnectStatus.NoSuchService)
    assert.equal(bob.proc.exitCode, null, 'daemon still running')
  })
})
