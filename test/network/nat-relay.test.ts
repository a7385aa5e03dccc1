import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { sha256File } from '../helpers/files.js'
import { inNamespace, netnsUnavailable, type UserEdge } from '../helpers/netns.js'
import { startNatWorld, type NatWorld } from '../helpers/nat-world.js'
import { spawnCspace } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

const SIZE = 32 * 1024 * 1024
const unavailable = await netnsUnavailable()

/** tcpdump of every TCP packet on eth0 in namespace `ns`; stop() ends it and returns the capture file's bytes. */
async function capture (ns: string, file: string): Promise<{ stop: () => Promise<Buffer> }> {
  const proc = spawn(...inNamespace(ns, 'tcpdump', ['-i', 'eth0', '-U', '-n', '-w', file, 'tcp']), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  await waitFor(`tcpdump listening in ${ns}`, () => stderr.includes('listening on') || proc.exitCode != null, 10_000, 20)
  assert.equal(proc.exitCode, null, `tcpdump: ${stderr}`)
  return {
    stop: async () => {
      proc.kill('SIGINT')
      if (proc.exitCode == null) await once(proc, 'exit')
      return readFileSync(file)
    }
  }
}

const EDGE_TEXT: Record<UserEdge, string> = {
  cone: 'behind a cone NAT',
  symmetric: 'behind a symmetric NAT',
  firewall: 'behind a firewall that drops inbound',
  public: 'on a public address'
}

/**
 * Users whom nobody can dial — bob behind a symmetric NAT, or behind a
 * firewall that drops every inbound connection — and, for contrast, bob on
 * an open public address. Alice is behind a cone NAT, except with the
 * firewalled bob: a cone NAT and a stateful firewall can be punched through
 * (the SYNs cross, each side's conntrack takes the other's as an answer), so
 * there alice's NAT is symmetric and the routers stay the only way.
 * Real namespaces, real iptables, real daemons (test/helpers/nat-world.ts).
 */
for (const bobEdge of ['symmetric', 'firewall', 'public'] as UserEdge[]) {
  const relayed = bobEdge !== 'public'
  const aliceEdge: UserEdge = bobEdge === 'firewall' ? 'symmetric' : 'cone'
  describe(`bob ${EDGE_TEXT[bobEdge]}, alice ${EDGE_TEXT[aliceEdge]}`, { skip: unavailable }, () => {
    let w: NatWorld

    before(async () => { w = await startNatWorld({ alice: aliceEdge, bob: bobEdge, blobBytes: SIZE }) })
    after(async () => { await w?.destroy() })

    if (relayed) {
      test('a router finds bob unreachable; he takes a slot on each router and publishes their relay addresses; alice sees him online', async () => {
        await waitFor('bob holding two relay slots, published', async () => {
          const s = await w.status('bob')
          const published = s.presence?.addresses ?? []
          return s.node.relaySlots.length === 2 && published.filter(a => a.includes('/p2p-circuit')).length === 2
        }, 30_000, 500)
        const s = await w.status('bob')
        assert.equal(s.node.reachability, 'private')
        assert.deepEqual(s.node.relaySlots.map(r => r.router).sort(), [w.routers.router1.peerId, w.routers.router2.peerId].sort())
        // nothing private leaks into presence: the LAN address is useless to others
        assert.ok(!(s.presence?.addresses ?? []).some(a => a.includes('/192.168.')), (s.presence?.addresses ?? []).join(' '))
        await waitFor('bob online for alice', async () => (await w.status('alice')).contacts.find(c => c.name === 'bob' && c.presence === 'online'), 30_000, 500)
        // each router holds slots for both users (alice is behind NAT as well)
        for (const name of ['router1', 'router2'] as const) {
          await waitFor(`${name} serving both users`, async () => (await w.status(name)).node.relayedFor === 2, 30_000, 500)
        }
      })
    } else {
      test('a router reaches bob directly: his public address is confirmed and published, and he takes no relay slot', async () => {
        const s = await waitFor('bob found reachable and published', async () => {
          const s = await w.status('bob')
          return s.node.reachability === 'public' && (s.presence?.addresses ?? []).some(a => a.startsWith(`/ip4/${w.net.publicIp.bob}/tcp/`)) ? s : undefined
        }, 30_000, 500)
        assert.deepEqual(s.node.relaySlots, [])
        assert.ok(!(s.presence?.addresses ?? []).some(a => a.includes('/p2p-circuit')), (s.presence?.addresses ?? []).join(' '))
        // alice's NAT drops the router's dial-back: found unreachable once it times out
        await waitFor('alice, behind her NAT, found unreachable', async () => (await w.status('alice')).node.reachability === 'private', 30_000, 500)
        await waitFor('bob online for alice', async () => (await w.status('alice')).contacts.find(c => c.name === 'bob' && c.presence === 'online'), 30_000, 500)
      })
    }

    test(`32 MiB each way through \`cspace forward\`, SHA-256 identical, over a ${relayed ? 'relayed' : 'direct'} connection`, async () => {
      const relayedBefore = await w.relayedByRouters()
      const down = Number((await w.cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
      const out = join(w.dir, 'down.bin')
      await w.inAlice(`socat -u TCP:127.0.0.1:${down} CREATE:${out}`)
      assert.equal(statSync(out).size, SIZE)
      assert.equal(await sha256File(out), w.blobSha)

      const up = Number((await w.cli('alice', ['forward', '0', 'bob', 'sink'])).trim())
      // socat waits up to -t seconds after sending for bob's answer
      const answer = await w.inAlice(`socat -t 60 STDIO TCP:127.0.0.1:${up} < ${w.blob}`)
      assert.equal(answer.split(/\s+/)[0], w.blobSha)

      const conns = await w.connectionsToBob()
      assert.ok(conns.length > 0 && conns.every(c => c.relayed === relayed), JSON.stringify(conns))
      // the routers' counters: 64 MiB went through them, or nothing did
      const relayedNow = await w.relayedByRouters() - relayedBefore
      if (relayed) assert.ok(relayedNow >= 2 * SIZE, `routers relayed ${relayedNow} bytes`)
      else assert.ok(relayedNow < 1024 * 1024, `routers relayed ${relayedNow} bytes of a direct transfer`)
    })

    if (bobEdge === 'symmetric') {
      test('the routers see only ciphertext: a plaintext marker sent through them never appears on their wire', async () => {
        const MARKER = 'CSPACE-PLAINTEXT-MARKER'
        await w.cli('bob', ['expose', 'marker', '--exec', `yes ${MARKER} | head -c 1048576`])
        const port = Number((await w.cli('alice', ['forward', '0', 'bob', 'marker'])).trim())
        const captures = await Promise.all((['router1', 'router2'] as const).map(async (r) => await capture(w.net.ns[r], join(w.dir, `${r}.pcap`))))
        const out = join(w.dir, 'marker.bin')
        await w.inAlice(`socat -u TCP:127.0.0.1:${port} CREATE:${out}`)
        const wire = Buffer.concat(await Promise.all(captures.map(async (c) => await c.stop())))
        assert.ok(readFileSync(out).includes(MARKER), 'the marker reached alice')
        assert.ok(wire.length > 1024 * 1024, `the routers' wire carried the transfer (${wire.length} bytes captured)`)
        assert.ok(!wire.includes(MARKER), 'the marker appeared in clear on a router\'s wire')
      })
    }

    if (bobEdge === 'symmetric') {
      test('`cspace hangup bob` ends a session running through a router at once', async () => {
        await waitFor('bob\'s relay addresses published', async () => ((await w.status('bob')).presence?.addresses ?? []).some(a => a.includes('/p2p-circuit')), 30_000, 500)
        // a session that lasts as long as alice types: sha256sum waits for her EOF
        const session = spawnCspace(['connect', 'bob', 'sink'], { home: w.daemons.alice.home, stdin: 'pipe', netns: w.net.ns.alice })
        const ended = once(session, 'exit')
        let stderr = ''
        session.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
        session.stdin?.write('still typing')
        await waitFor('the session open at bob', async () => {
          if (session.exitCode != null) assert.fail(`cspace connect ended: ${stderr}`)
          const status = JSON.parse(await w.cli('bob', ['status', '--json'])) as { exposes: Array<{ service: string, active: number }> }
          return status.exposes.some(e => e.service === 'sink' && e.active > 0)
        }, 30_000, 200)
        assert.ok((await w.connectionsToBob()).every(c => c.relayed), 'the session runs through a router')
        // relayed connections wait for their sessions before they close
        // (DCUtR's close after a punch); the user's hang-up must not
        const hangup = w.cli('alice', ['hangup', 'bob'])
        await waitFor('the session ended by the hang-up', () => session.exitCode != null || session.signalCode != null, 15_000, 50)
        assert.match(await hangup, /^closed [1-9]\d* connection\(s\) to bob/)
        const [code] = await ended as [number | null]
        // a hang-up cuts the session off: the program can tell it from a clean end
        assert.equal(code, 1)
        assert.match(stderr, /^cspace: the session with bob's "sink" was cut off before it ended/)
        session.stdin?.destroy()
      })
    }

    if (bobEdge === 'firewall') {
      test('the router in use is killed mid-session: the next connect goes through the other within 30 s', async () => {
        const before = await w.connectionsToBob()
        const used = (['router1', 'router2'] as const).find(r => before.some(c => c.remoteAddr.includes(`/p2p/${w.routers[r].peerId}/p2p-circuit`)))
        assert.ok(used != null, `alice's connection to bob goes through a router: ${JSON.stringify(before)}`)
        const other = used === 'router1' ? 'router2' : 'router1'
        const port = Number((await w.cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
        // a session is open and moving bytes when the router dies
        const inFlight = w.inAlice(`socat -u TCP:127.0.0.1:${port} CREATE:${join(w.dir, 'cut.bin')}`).catch(() => '')
        await w.routers[used].daemon.kill()
        await inFlight
        const started = Date.now()
        const out = join(w.dir, 'after.bin')
        await waitFor('a whole transfer through the other router', async () => {
          await w.inAlice(`socat -u TCP:127.0.0.1:${port} CREATE:${out}`)
          return await sha256File(out) === w.blobSha
        }, 30_000, 500)
        const conns = await w.connectionsToBob()
        assert.ok(conns.length > 0 && conns.every(c => c.remoteAddr.includes(`/p2p/${w.routers[other].peerId}/p2p-circuit`)), JSON.stringify(conns))
        assert.ok(Date.now() - started < 30_000)
      })
    }
  })
}

/**
 * Bob holds one slot only. When his router dies he must take a slot on the
 * other router and publish the new relay address, or nobody can reach him.
 */
describe('bob with one relay slot: his router dies', { skip: unavailable }, () => {
  let w: NatWorld

  before(async () => { w = await startNatWorld({ alice: 'cone', bob: 'symmetric', blobBytes: 1024 * 1024, bobNetwork: { relaySlots: 1 } }) })
  after(async () => { await w?.destroy() })

  test('he moves to the other router and republishes within seconds; alice reaches him there', async (t) => {
    const first = await waitFor('bob holding one slot, published', async () => {
      const s = await w.status('bob')
      return s.node.relaySlots.length === 1 && (s.presence?.addresses ?? []).filter(a => a.includes('/p2p-circuit')).length === 1 ? s : undefined
    }, 30_000, 500)
    const used = (['router1', 'router2'] as const).find(r => w.routers[r].peerId === first.node.relaySlots[0].router)
    assert.ok(used != null)
    const other = used === 'router1' ? 'router2' : 'router1'
    await w.routers[used].daemon.kill()
    const killedAt = Date.now()
    await waitFor('bob on the other router, published', async () => {
      const s = await w.status('bob')
      const published = (s.presence?.addresses ?? []).filter(a => a.includes('/p2p-circuit'))
      return s.node.relaySlots.length === 1 && s.node.relaySlots[0].router === w.routers[other].peerId &&
        published.length === 1 && published[0].includes(w.routers[other].peerId)
    }, 30_000, 250)
    const movedAfterMs = Date.now() - killedAt
    const port = Number((await w.cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
    const out = join(w.dir, 'moved.bin')
    await waitFor('a whole transfer through the new slot', async () => {
      await w.inAlice(`socat -u TCP:127.0.0.1:${port} CREATE:${out}`)
      return await sha256File(out) === w.blobSha
    }, 30_000, 500)
    assert.ok(movedAfterMs < 30_000, `moved after ${movedAfterMs} ms`)
    t.diagnostic(`moved and republished ${movedAfterMs} ms after the router died`)
  })
})

/**
 * Bob behind a symmetric NAT whose public address changes (the ISP gives his
 * NAT box a new one): his connections to the routers die without a word to
 * either end. His daemon's pings to his routers find it, he takes slots anew
 * from the new address, and each router drops his dead connection as soon as
 * the new one opens instead of relaying into it until its own minute-long
 * ping (network/relay-slot-watch.ts, network/stale-connections.ts).
 */
describe('bob\'s NAT box gets a new public address', { skip: unavailable }, () => {
  let w: NatWorld

  before(async () => { w = await startNatWorld({ alice: 'cone', bob: 'symmetric', blobBytes: 1024 * 1024 }) })
  after(async () => { await w?.destroy() })

  test('alice reaches him through the routers again within seconds, not at the next minute\'s ping', async (t) => {
    await waitFor('bob holding two relay slots, published', async () => {
      const s = await w.status('bob')
      return s.node.relaySlots.length === 2 && (s.presence?.addresses ?? []).filter(a => a.includes('/p2p-circuit')).length === 2
    }, 60_000, 500)
    const port = Number((await w.cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
    const out = join(w.dir, 'moved.bin')
    const transfer = async (): Promise<boolean> => {
      await w.inAlice(`timeout 10 socat -u TCP:127.0.0.1:${port} CREATE:${out}`).catch(() => {})
      return await sha256File(out) === w.blobSha
    }
    await waitFor('a whole transfer before the change', transfer, 30_000, 500)
    await w.cli('alice', ['hangup', 'bob'])

    await w.net.changePublicIp('bob', '5.0.0.42')
    const changedAt = Date.now()
    writeFileSync(out, '')
    // libp2p's ping alone (every 60 s, at both bob and the routers) took 47-53 s here
    await waitFor('a whole transfer after the change', transfer, 30_000, 500)
    t.diagnostic(`through again ${Date.now() - changedAt} ms after the change`)
    const slots = (await w.status('bob')).node.relaySlots
    assert.equal(slots.length, 2, 'both slots taken again')
  })
})

/**
 * Both behind cone NATs: reached through a router first, then DCUtR punches
 * through both NATs (TCP simultaneous open from each side's listening port)
 * and new sessions take the direct path; the routers stop relaying.
 */
describe('alice and bob both behind cone NATs: the relayed connection is upgraded to a direct one', { skip: unavailable }, () => {
  let w: NatWorld

  before(async () => { w = await startNatWorld({ alice: 'cone', bob: 'cone', blobBytes: SIZE }) })
  after(async () => { await w?.destroy() })

  test('the first connect goes through a router at once; a direct connection follows without ending the session begun through the router, which then closes; 32 MiB each way then bypass the routers', async (t) => {
    await waitFor('bob online for alice, through routers', async () => {
      const s = await w.status('bob')
      return s.node.reachability === 'private' && (s.presence?.addresses ?? []).filter(a => a.includes('/p2p-circuit')).length === 2
    }, 30_000, 500)
    // the hole-punching address stays out of presence: only relay addresses
    const published = (await w.status('bob')).presence?.addresses ?? []
    assert.ok(published.every(a => a.includes('/p2p-circuit')), `${published.join(' ')} punchable ${JSON.stringify((await w.status('bob')).node)}`)
    // nor does identify advertise it: bob's DCUtR would first dial it as an
    // ordinary address, and wait 5 s for the NAT's silence before punching
    const alice = await waitFor('alice found unreachable', async () => {
      const s = await w.status('alice')
      return s.node.reachability === 'private' ? s : undefined
    }, 30_000, 250)
    assert.ok(!alice.node.addresses.some(a => a.startsWith(`/ip4/${w.net.publicIp.alice}/`) && !a.includes('/p2p-circuit')), alice.node.addresses.join(' '))

    const port = Number((await w.cli('alice', ['forward', '0', 'bob', 'sink'])).trim())
    await w.cli('bob', ['expose', 'reply', '--exec', 'read line; echo "pong $line"'])
    const replyPort = Number((await w.cli('alice', ['forward', '0', 'bob', 'reply'])).trim())
    // The first connect is a long session: it goes through a router at once,
    // without waiting for the punch, and is still running when the punch
    // succeeds (its application sends only once the test says so).
    const go = join(w.dir, 'go')
    const started = Date.now()
    let longSessionEnded = false
    const longSession = w.inAlice(`(while [ ! -e ${go} ]; do sleep 0.05; done; echo ping) | socat -t 30 STDIO TCP:127.0.0.1:${replyPort}`).finally(() => { longSessionEnded = true })
    const direct = await waitFor('a direct connection from alice to bob', async () => (await w.connectionsToBob()).find(c => !c.relayed), 30_000, 100)
    t.diagnostic(`direct connection ${Date.now() - started} ms after the first connect, to ${direct.remoteAddr}`)
    assert.ok(direct.remoteAddr.startsWith(`/ip4/${w.net.publicIp.bob}/tcp/`), direct.remoteAddr)
    const during = await w.connectionsToBob()
    assert.ok(during.some(c => c.relayed && c.streams > 0), `the session kept its relayed connection past the punch: ${JSON.stringify(during)}`)
    assert.equal(longSessionEnded, false, 'the punch came while the session through the router was still open')
    // a new session meanwhile works as well
    const second = await w.inAlice(`printf hello | socat -t 30 STDIO TCP:127.0.0.1:${port}`)
    assert.match(second, /^[0-9a-f]{64}/)
    writeFileSync(go, '')
    assert.equal((await longSession).trim(), 'pong ping', 'the session begun through the router survived the upgrade')
    await waitFor('the relayed connection closed after its last session', async () => (await w.connectionsToBob()).every(c => !c.relayed), 30_000, 250)

    const relayedBefore = await w.relayedByRouters()
    const down = Number((await w.cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
    const out = join(w.dir, 'direct.bin')
    await w.inAlice(`socat -u TCP:127.0.0.1:${down} CREATE:${out}`)
    assert.equal(await sha256File(out), w.blobSha)
    const answer = await w.inAlice(`socat -t 60 STDIO TCP:127.0.0.1:${port} < ${w.blob}`)
    assert.equal(answer.split(/\s+/)[0], w.blobSha)
    const relayedNow = await w.relayedByRouters() - relayedBefore
    assert.ok(relayedNow < 1024 * 1024, `routers relayed ${relayedNow} bytes after the upgrade`)
  })
})

/**
 * A stateful firewall is no NAT: bob's own address and port are what alice
 * dials, and his outgoing SYN opens the way for hers (or hers, through her
 * cone NAT, for his). DCUtR punches through both.
 */
describe('bob behind a firewall that drops inbound, alice behind a cone NAT: DCUtR punches through', { skip: unavailable }, () => {
  const BYTES = 4 * 1024 * 1024
  let w: NatWorld

  before(async () => { w = await startNatWorld({ alice: 'cone', bob: 'firewall', blobBytes: BYTES }) })
  after(async () => { await w?.destroy() })

  test('reached through a router first, then directly at his own address; the routers stop relaying', async (t) => {
    await waitFor('bob published through routers', async () => ((await w.status('bob')).presence?.addresses ?? []).filter(a => a.includes('/p2p-circuit')).length === 2, 30_000, 500)
    const port = Number((await w.cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
    const started = Date.now()
    const first = join(w.dir, 'first.bin')
    await w.inAlice(`socat -u TCP:127.0.0.1:${port} CREATE:${first}`)
    assert.equal(await sha256File(first), w.blobSha)
    const direct = await waitFor('a direct connection from alice to bob', async () => (await w.connectionsToBob()).find(c => !c.relayed), 30_000, 100)
    t.diagnostic(`direct connection ${Date.now() - started} ms after the first connect, to ${direct.remoteAddr}`)
    assert.ok(direct.remoteAddr.startsWith(`/ip4/${w.net.publicIp.bob}/tcp/`), direct.remoteAddr)
    await waitFor('the relayed connection gone', async () => (await w.connectionsToBob()).every(c => !c.relayed), 30_000, 250)
    const relayedBefore = await w.relayedByRouters()
    const out = join(w.dir, 'direct.bin')
    await w.inAlice(`socat -u TCP:127.0.0.1:${port} CREATE:${out}`)
    assert.equal(await sha256File(out), w.blobSha)
    const relayedNow = await w.relayedByRouters() - relayedBefore
    assert.ok(relayedNow < 1024 * 1024, `routers relayed ${relayedNow} bytes of a direct transfer`)
  })
})

/**
 * A router's bandwidth cap (`router.relayBytesPerSecond`). The one timing
 * assertion in these tests is a lower bound that only a working cap can
 * meet: uncapped, the same 24 MiB cross this loopback topology in about a
 * second.
 */
describe('routers that cap their relay bandwidth', { skip: unavailable }, () => {
  const CAP = 4 * 1024 * 1024
  const BYTES = 24 * 1024 * 1024
  /** What a paused relay stream may still receive: one yamux window (network/node.ts). */
  const WINDOW = 4 * 1024 * 1024
  let w: NatWorld

  before(async () => { w = await startNatWorld({ alice: 'cone', bob: 'symmetric', blobBytes: BYTES, routerLimits: { relayBytesPerSecond: CAP } }) })
  after(async () => { await w?.destroy() })

  test('24 MiB through a router capped at 4 MiB/s arrive whole, no faster than the cap allows', async () => {
    await waitFor('bob reachable through routers', async () => ((await w.status('bob')).presence?.addresses ?? []).filter(a => a.includes('/p2p-circuit')).length === 2, 30_000, 500)
    const port = Number((await w.cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
    const out = join(w.dir, 'capped.bin')
    const started = performance.now()
    await w.inAlice(`socat -u TCP:127.0.0.1:${port} CREATE:${out}`)
    const seconds = (performance.now() - started) / 1000
    assert.equal(await sha256File(out), w.blobSha)
    assert.ok((await w.connectionsToBob()).every(c => c.relayed))
    // a full bucket (one second's worth) and what was in flight when the
    // relay paused (one window) go at once; the rest at the cap
    assert.ok(seconds >= (BYTES - CAP - WINDOW) / CAP * 0.9, `24 MiB in ${seconds.toFixed(2)} s through a 4 MiB/s cap`)
  })
})
