import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { encodePresence, presenceKey, type NetworkNode } from '../../src/network/index.js'
import { parseUserId } from '../../src/identity/index.js'
import { cleanupAll, makeProfile, runCli, startDaemon, type RunningDaemon } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { createLoopbackNode } from '../helpers/nodes.js'

const USERS = 20

/**
 * Tens of daemons on one loopback address form a working DHT (the per-IP
 * throttle and private-address filtering are configured in config.json, as a
 * user would): every user's presence is found, and forged, oversized and
 * malformed records sent to real daemons are rejected while they keep serving.
 */
describe(`a DHT of ${USERS} daemons and a router on 127.0.0.1`, () => {
  let router: RunningDaemon
  let seeker: Awaited<ReturnType<typeof makeProfile>>
  const users: Array<Awaited<ReturnType<typeof makeProfile>>> = []
  let rogue: NetworkNode

  before(async () => {
    router = await startDaemon((await makeProfile('router')).home, ['--router'])
    seeker = await makeProfile('seeker')
    for (let i = 0; i < USERS; i++) {
      const u = await makeProfile(`u${i}`)
      users.push(u)
      await runCli(u.home, ['contacts', 'add', 'seeker', seeker.userId])
      await runCli(u.home, ['expose', 'name', '--exec', `printf u${i}`])
      await runCli(seeker.home, ['contacts', 'add', `u${i}`, u.userId])
    }
    // users join in a chain: each bootstraps from the router and the previous user
    let previous = router.addresses[0]
    for (const u of users) {
      const d = await startDaemon(u.home, ['--bootstrap', router.addresses[0], '--bootstrap', previous])
      previous = d.addresses[0]
    }
    await startDaemon(seeker.home, ['--bootstrap', router.addresses[0]])
  })

  after(async () => {
    await rogue?.stop()
    await cleanupAll()
  })

  test('every user is found online through the DHT and reached by name', async () => {
    await waitFor('all users online in the seeker\'s status', async () => {
      const s = JSON.parse((await runCli(seeker.home, ['status', '--json'])).stdout)
      return s.contacts.filter((c: { presence: string }) => c.presence === 'online').length === USERS
    }, 60_000, 1000)
    for (let i = 0; i < USERS; i++) {
      const r = await runCli(seeker.home, ['connect', `u${i}`, 'name'])
      assert.equal(r.code, 0, `u${i}: ${r.stderr}`)
      assert.equal(r.stdout, `u${i}`)
    }
  })

  test('forged, oversized and malformed presence records are refused; the victim stays reachable', async () => {
    rogue = await createLoopbackNode()
    await rogue.start()
    await rogue.dial(multiaddr(router.addresses[0]))
    await waitFor('the rogue node in the DHT', async () => {
      for await (const e of rogue.services.dht.getClosestPeers(new Uint8Array(32), { signal: AbortSignal.timeout(5000) })) if (e.name === 'FINAL_PEER') return true
      return false
    })
    const victim = parseUserId(users[0].userId).peerId
    const key = presenceKey(peerIdFromString(victim.toString()))
    const attackerKey = await generateKeyPair('Ed25519')
    const forged = await encodePresence(attackerKey, { addresses: rogue.getMultiaddrs().map(a => a.decapsulateCode(421).toString()), seq: Number.MAX_SAFE_INTEGER, expires: Date.now() + 3600_000, online: true })
    const bad = [forged, Buffer.alloc(64 * 1024, 0x7b), Buffer.from('{"v":1,"payload":"e30=","sig":""}'), Buffer.from('{"v":1,"pay')]
    for (const value of bad) {
      let accepted = 0
      try {
        for await (const e of rogue.services.dht.put(key, value, { signal: AbortSignal.timeout(10_000) })) {
          if (e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE') accepted++
        }
      } catch {}
      assert.equal(accepted, 0, 'no daemon accepted a bad record')
    }
    // the real record still wins everywhere: the victim is reached, by a user that never met it
    const r = await runCli(seeker.home, ['connect', 'u0', 'name'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'u0')
    assert.equal(router.proc.exitCode, null)
  })
})
