import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { statSync } from 'node:fs'
import { cleanupAll, makeProfile, runCli, startDaemon, type RunningDaemon } from '../helpers/cli.js'
import { sha256File, tempDir, writeRandomFile } from '../helpers/files.js'
import { createTopology, netnsUnavailable, type Topology, type UserEdge } from '../helpers/netns.js'
import { waitFor } from '../helpers/wait.js'

const exec = promisify(execFile)
const SIZE = 32 * 1024 * 1024
const unavailable = await netnsUnavailable()

interface Connection { contact: string | null, relayed: boolean, remoteAddr: string }
interface Status { node: { reachability: string, relaySlots: Array<{ router: string }>, relayedFor: number | null }, contacts: Array<{ name: string, presence: string }>, presence: { addresses: string[] } | null }

/**
 * Users whom nobody can dial: bob behind a symmetric NAT, or behind a firewall
 * that drops every inbound connection, in real namespaces with real iptables.
 * Bob holds relay slots on both routers and publishes the relay addresses;
 * alice, behind her own NAT, reaches his service through one of them.
 */
const EDGE_TEXT: Record<UserEdge, string> = {
  cone: 'behind a cone NAT',
  symmetric: 'behind a symmetric NAT',
  firewall: 'behind a firewall that drops inbound',
  public: 'on a public address'
}

for (const bobEdge of ['symmetric', 'firewall', 'public'] as UserEdge[]) {
  const relayed = bobEdge !== 'public'
  describe(`bob ${EDGE_TEXT[bobEdge]}, alice ${EDGE_TEXT.cone}`, { skip: unavailable }, () => {
    let net: Topology
    const routers: Record<'router1' | 'router2', { daemon: RunningDaemon, peerId: string, home: string }> = {} as never
    let alice: { home: string }
    let bob: { home: string }
    let bobD: RunningDaemon
    let aliceD: RunningDaemon
    let dir: string
    let blob: string
    let blobSha: string

    const cli = async (who: 'alice' | 'bob', args: string[]): Promise<string> => {
      const r = await runCli(who === 'alice' ? alice.home : bob.home, args, { netns: net.ns[who] })
      assert.equal(r.code, 0, `cspace ${args.join(' ')} (${who}): ${r.stderr}`)
      return r.stdout
    }
    const status = async (who: 'alice' | 'bob'): Promise<Status> => JSON.parse(await cli(who, ['status', '--json']))
    const connectionsToBob = async (): Promise<Connection[]> => (JSON.parse(await cli('alice', ['connections', '--json'])) as Connection[]).filter(c => c.contact === 'bob')
    /** Bytes both routers have relayed so far (a killed router no longer counts). */
    const relayedByRouters = async (): Promise<number> => {
      let total = 0
      for (const name of ['router1', 'router2'] as const) {
        if (routers[name].daemon.proc.exitCode != null || routers[name].daemon.proc.signalCode != null) continue
        const r = await runCli(routers[name].home, ['status', '--json'], { netns: net.ns[name] })
        assert.equal(r.code, 0, r.stderr)
        total += JSON.parse(r.stdout).node.relayedBytes as number
      }
      return total
    }
    /** Runs socat in alice's namespace against her forward on `port`; returns its stdout. */
    const socat = async (args: string[]): Promise<string> => (await exec('ip', ['netns', 'exec', net.ns.alice, 'socat', ...args], { maxBuffer: 1024 * 1024 })).stdout

    before(async () => {
      dir = tempDir('cspace-nat-')
      blob = join(dir, 'blob.bin')
      blobSha = writeRandomFile(blob, SIZE)
      net = await createTopology({ alice: 'cone', bob: bobEdge })
      const routerConfig = { listen: ['/ip4/0.0.0.0/tcp/4001'], network: { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 100, maxConnections: 300 } }
      const bootstrap: string[] = []
      for (const name of ['router1', 'router2'] as const) {
        // a router tells the world its public address, as an operator would
        const announce = [`/ip4/${net.publicIp[name]}/tcp/4001`]
        const profile = await makeProfile(name, { config: { ...routerConfig, announce, bootstrap: [...bootstrap] } })
        const daemon = await startDaemon(profile.home, ['--router'], { netns: net.ns[name] })
        const addr = daemon.addresses.find(a => a.startsWith(`/ip4/${net.publicIp[name]}/`))
        assert.ok(addr != null, `router address on ${net.publicIp[name]} among ${daemon.addresses.join(' ')}`)
        bootstrap.push(addr)
        routers[name] = { daemon, peerId: addr.split('/p2p/')[1], home: profile.home }
      }
      // the way anyone on the internet runs: public addresses only, default relay slots (2, taken if unreachable)
      const userConfig = { listen: ['/ip4/0.0.0.0/tcp/0'], bootstrap, network: { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 5, maxConnections: 300 } }
      alice = await makeProfile('alice', { config: userConfig })
      bob = await makeProfile('bob', { config: userConfig })
      bobD = await startDaemon(bob.home, [], { netns: net.ns.bob })
      aliceD = await startDaemon(alice.home, [], { netns: net.ns.alice })
      const aliceId = (await cli('alice', ['id'])).split('\n')[0]
      const bobId = (await cli('bob', ['id'])).split('\n')[0]
      await cli('alice', ['contacts', 'add', 'bob', bobId])
      await cli('bob', ['contacts', 'add', 'alice', aliceId])
      await cli('bob', ['expose', 'blob', '--exec', `cat ${blob}`])
      await cli('bob', ['expose', 'sink', '--exec', 'sha256sum'])
    })

    after(async () => {
      await cleanupAll()
      await net?.destroy()
    })

    if (relayed) {
      test('a router finds bob unreachable; he takes a slot on each router and publishes their relay addresses; alice sees him online', async () => {
        await waitFor('bob holding two relay slots, published', async () => {
          const s = await status('bob')
          const published = s.presence?.addresses ?? []
          return s.node.relaySlots.length === 2 && published.filter(a => a.includes('/p2p-circuit')).length === 2
        }, 30_000, 500)
        const s = await status('bob')
        assert.equal(s.node.reachability, 'private')
        assert.deepEqual(s.node.relaySlots.map(r => r.router).sort(), [routers.router1.peerId, routers.router2.peerId].sort())
        // nothing private leaks into presence: the LAN address is useless to others
        assert.ok(!(s.presence?.addresses ?? []).some(a => a.includes('/192.168.')), (s.presence?.addresses ?? []).join(' '))
        await waitFor('bob online for alice', async () => (await status('alice')).contacts.find(c => c.name === 'bob' && c.presence === 'online'), 30_000, 500)
        // each router holds slots for both users (alice is behind NAT as well)
        for (const name of ['router1', 'router2'] as const) {
          await waitFor(`${name} serving both users`, async () => {
            const r = await runCli(routers[name].home, ['status', '--json'], { netns: net.ns[name] })
            return r.code === 0 && JSON.parse(r.stdout).node.relayedFor === 2
          }, 30_000, 500)
        }
      })
    } else {
      test('a router reaches bob directly: his public address is confirmed and published, and he takes no relay slot', async () => {
        const s = await waitFor('bob found reachable and published', async () => {
          const s = await status('bob')
          return s.node.reachability === 'public' && (s.presence?.addresses ?? []).some(a => a.startsWith(`/ip4/${net.publicIp.bob}/tcp/`)) ? s : undefined
        }, 30_000, 500)
        assert.deepEqual(s.node.relaySlots, [])
        assert.ok(!(s.presence?.addresses ?? []).some(a => a.includes('/p2p-circuit')), (s.presence?.addresses ?? []).join(' '))
        assert.equal((await status('alice')).node.reachability, 'private', 'alice, behind her NAT, was found unreachable')
        await waitFor('bob online for alice', async () => (await status('alice')).contacts.find(c => c.name === 'bob' && c.presence === 'online'), 30_000, 500)
      })
    }

    test(`32 MiB each way through \`cspace forward\`, SHA-256 identical, over a ${relayed ? 'relayed' : 'direct'} connection`, async () => {
      const relayedBefore = await relayedByRouters()
      const down = Number((await cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
      const out = join(dir, 'down.bin')
      await socat(['-u', `TCP:127.0.0.1:${down}`, `CREATE:${out}`])
      assert.equal(statSync(out).size, SIZE)
      assert.equal(await sha256File(out), blobSha)

      const up = Number((await cli('alice', ['forward', '0', 'bob', 'sink'])).trim())
      // socat waits up to -t seconds after sending for bob's answer
      const answer = (await exec('ip', ['netns', 'exec', net.ns.alice, 'sh', '-c', `socat -t 60 STDIO TCP:127.0.0.1:${up} < ${blob}`])).stdout
      assert.equal(answer.split(/\s+/)[0], blobSha)

      const conns = await connectionsToBob()
      assert.ok(conns.length > 0 && conns.every(c => c.relayed === relayed), JSON.stringify(conns))
      // the routers' counters: 64 MiB went through them, or nothing did
      const relayedNow = await relayedByRouters() - relayedBefore
      if (relayed) assert.ok(relayedNow >= 2 * SIZE, `routers relayed ${relayedNow} bytes`)
      else assert.ok(relayedNow < 1024 * 1024, `routers relayed ${relayedNow} bytes of a direct transfer`)
    })

    if (bobEdge === 'firewall') {
      test('the router in use is killed mid-session: the next connect goes through the other within 30 s', async () => {
        const before = await connectionsToBob()
        const used = (['router1', 'router2'] as const).find(r => before.some(c => c.remoteAddr.includes(`/p2p/${routers[r].peerId}/p2p-circuit`)))
        assert.ok(used != null, `alice's connection to bob goes through a router: ${JSON.stringify(before)}`)
        const other = used === 'router1' ? 'router2' : 'router1'
        const port = Number((await cli('alice', ['forward', '0', 'bob', 'blob'])).trim())
        // a session is open and moving bytes when the router dies
        const inFlight = socat(['-u', `TCP:127.0.0.1:${port}`, `CREATE:${join(dir, 'cut.bin')}`]).catch(() => '')
        await routers[used].daemon.kill()
        await inFlight
        const started = Date.now()
        const out = join(dir, 'after.bin')
        await waitFor('a whole transfer through the other router', async () => {
          await socat(['-u', `TCP:127.0.0.1:${port}`, `CREATE:${out}`])
          return await sha256File(out) === blobSha
        }, 30_000, 500)
        const conns = await connectionsToBob()
        assert.ok(conns.some(c => c.remoteAddr.includes(`/p2p/${routers[other].peerId}/p2p-circuit`)), JSON.stringify(conns))
        assert.ok(Date.now() - started < 30_000)
      })
    }
  })
}
