import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { cleanupAll, makeProfile, runCli, startDaemon, type RunningDaemon } from './cli.js'
import { tempDir, writeRandomFile } from './files.js'
import { createTopology, inNamespace, type Topology, type UserEdge } from './netns.js'

const exec = promisify(execFile)

export interface ConnectionRow { contact: string | null, relayed: boolean, remoteAddr: string, streams: number }
export interface StatusRow {
  node: { reachability: string, addresses: string[], relaySlots: Array<{ router: string }>, relayedFor: number | null, relayedBytes: number | null }
  contacts: Array<{ name: string, presence: string }>
  presence: { addresses: string[] } | null
}
type Router = 'router1' | 'router2'

/**
 * The NAT tests' world, built on `createTopology`: two routers on the public
 * segment (each announcing its address, router2 bootstrapping from router1),
 * alice and bob with each other as contacts, both bootstrapping from both
 * routers, with public addresses only as on the internet. Bob exposes `blob`
 * (`cat` of a random file of `blobBytes`) and `sink` (`sha256sum`).
 */
export interface NatWorld {
  net: Topology
  routers: Record<Router, { daemon: RunningDaemon, peerId: string, home: string }>
  daemons: { alice: RunningDaemon, bob: RunningDaemon }
  blob: string
  blobSha: string
  dir: string
  /** `cspace ARGS` as alice or bob, in their namespace; fails the test on a non-zero exit. */
  cli: (who: 'alice' | 'bob', args: string[]) => Promise<string>
  status: (who: 'alice' | 'bob' | Router) => Promise<StatusRow>
  /** Alice's open connections to bob. */
  connectionsToBob: () => Promise<ConnectionRow[]>
  /** Bytes the routers still running have relayed so far. */
  relayedByRouters: () => Promise<number>
  /** A shell command in alice's namespace; its stdout. */
  inAlice: (command: string) => Promise<string>
  /** Kills everything and removes the namespaces. */
  destroy: () => Promise<void>
}

export async function startNatWorld (opts: { alice: UserEdge, bob: UserEdge, blobBytes: number, bobNetwork?: object, routerLimits?: object }): Promise<NatWorld> {
  const dir = tempDir('cspace-nat-')
  const blob = join(dir, 'blob.bin')
  const blobSha = writeRandomFile(blob, opts.blobBytes)
  const net = await createTopology({ alice: opts.alice, bob: opts.bob })
  const homes: Record<string, string> = {}
  const run = async (who: 'alice' | 'bob' | Router, args: string[]): Promise<string> => {
    const r = await runCli(homes[who], args, { netns: net.ns[who] })
    assert.equal(r.code, 0, `cspace ${args.join(' ')} (${who}): ${r.stderr}`)
    return r.stdout
  }
  try {
    const routers = {} as NatWorld['routers']
    const network = { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 100, maxConnections: 300 }
    const bootstrap: string[] = []
    for (const name of ['router1', 'router2'] as const) {
      // a router tells the world its public address, as an operator would
      const announce = [`/ip4/${net.publicIp[name]}/tcp/4001`]
      const profile = await makeProfile(name, { config: { listen: ['/ip4/0.0.0.0/tcp/4001'], announce, bootstrap: [...bootstrap], network, router: opts.routerLimits ?? {} } })
      homes[name] = profile.home
      const daemon = await startDaemon(profile.home, ['--router'], { netns: net.ns[name] })
      const addr = daemon.addresses.find(a => a.startsWith(`/ip4/${net.publicIp[name]}/`))
      assert.ok(addr != null, `router address on ${net.publicIp[name]} among ${daemon.addresses.join(' ')}`)
      bootstrap.push(addr)
      routers[name] = { daemon, peerId: addr.split('/p2p/')[1], home: profile.home }
    }
    // the way anyone on the internet runs: public addresses only, default relay slots
    const userNetwork = { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 5, maxConnections: 300 }
    const daemons = {} as NatWorld['daemons']
    for (const who of ['bob', 'alice'] as const) {
      const config = { listen: ['/ip4/0.0.0.0/tcp/0'], bootstrap, network: { ...userNetwork, ...(who === 'bob' ? opts.bobNetwork : {}) } }
      homes[who] = (await makeProfile(who, { config })).home
      daemons[who] = await startDaemon(homes[who], [], { netns: net.ns[who] })
    }
    const aliceId = (await run('alice', ['id'])).split('\n')[0]
    const bobId = (await run('bob', ['id'])).split('\n')[0]
    await run('alice', ['contacts', 'add', 'bob', bobId])
    await run('bob', ['contacts', 'add', 'alice', aliceId])
    await run('bob', ['expose', 'blob', '--exec', `cat ${blob}`])
    await run('bob', ['expose', 'sink', '--exec', 'sha256sum'])

    const alive = (r: Router): boolean => routers[r].daemon.proc.exitCode == null && routers[r].daemon.proc.signalCode == null
    return {
      net,
      routers,
      daemons,
      blob,
      blobSha,
      dir,
      cli: run,
      status: async (who) => JSON.parse(await run(who, ['status', '--json'])),
      connectionsToBob: async () => (JSON.parse(await run('alice', ['connections', '--json'])) as ConnectionRow[]).filter(c => c.contact === 'bob'),
      relayedByRouters: async () => {
        let total = 0
        for (const r of (['router1', 'router2'] as const).filter(alive)) total += JSON.parse(await run(r, ['status', '--json'])).node.relayedBytes as number
        return total
      },
      inAlice: async (command) => (await exec(...inNamespace(net.ns.alice, 'sh', ['-c', command]), { maxBuffer: 1024 * 1024 })).stdout,
      destroy: async () => {
        await cleanupAll()
        await net.destroy()
      }
    }
  } catch (err) {
    await cleanupAll()
    await net.destroy()
    throw err
  }
}
