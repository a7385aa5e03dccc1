import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { makeProfile, runCli, startDaemon } from '../../test/helpers/cli.js'
import { createTopology, inNamespace, limitUplink, listeningInNs, netnsUnavailable, stopProcessesIn, type Topology } from '../../test/helpers/netns.js'
import { startSshd, type Sshd } from '../../test/helpers/sshd.js'
import { waitFor } from '../../test/helpers/wait.js'
import { startReadyProcess, type ReadyProcess } from '../ready-process.js'
import { sshArgs, startTool } from '../tools.js'
import { summarize, type Summary } from '../stats.js'

const exec = promisify(execFile)

/** Ports inside the namespaces, each of which has its own loopback. */
const ECHO_PORT = 7777
const SINK_PORT = 7778
const SSH_ECHO_PORT = 9001
const SSH_SINK_PORT = 9002

export interface LoadedLinkPath {
  idleMs: Summary
  busyMs: Summary
  /** The upload's rate while the busy samples were taken, as the sending program saw it. */
  uploadMbit: number
}

export interface LoadedLinkResult {
  rateMbit: number
  /** The most the link's own queue (the "router") holds, in ms of traffic. */
  queueMs: number
  paths: Record<string, LoadedLinkPath>
}

/**
 * Connect latency while a bulk upload fills the same connection, over a link
 * of `rateMbit` each way: alice and bob in network namespaces on one segment,
 * each one's uplink limited by tc (a home connection's upload), bob's echo
 * and sink services reached through cspace (forward → expose, the only
 * connection between the daemons) and through one `ssh -L` session to an
 * sshd in bob's namespace carrying both ports. What a person typing in one
 * tunnel feels while a file goes up another. Undefined (with the reason
 * logged) where namespaces cannot be made.
 */
export async function measureLoadedLink (opts: { samples: number, settleMs: number, rateMbit: number, queueMs: number }, log: (s: string) => void): Promise<LoadedLinkResult | undefined> {
  const unavailable = await netnsUnavailable()
  if (unavailable != null) {
    log(`loaded link skipped: ${unavailable}`)
    return undefined
  }
  const net = await createTopology({ alice: 'public', bob: 'public' })
  const helpers: ReadyProcess[] = []
  let sshd: Sshd | undefined
  try {
    for (const who of ['alice', 'bob'] as const) await limitUplink(net.ns[who], 'eth0', opts.rateMbit, opts.queueMs)
    const bobIp = net.publicIp.bob
    helpers.push(await startReadyProcess('./echo-process.js', [String(ECHO_PORT)], 'the echo service', 30_000, net.ns.bob))
    startTool(...inNamespace(net.ns.bob, 'socat', ['-u', `TCP-LISTEN:${SINK_PORT},bind=127.0.0.1,reuseaddr,fork`, 'OPEN:/dev/null']))
    await waitFor('the sink in bob\'s namespace', async () => await listeningInNs(net.ns.bob, SINK_PORT), 10_000, 50)

    const forwards = await cspaceForwards(net, log)
    sshd = await startSshd({ netns: net.ns.bob, address: bobIp })
    startTool(...inNamespace(net.ns.alice, 'ssh', [...sshArgs(sshd), '-N',
      '-L', `127.0.0.1:${SSH_ECHO_PORT}:127.0.0.1:${ECHO_PORT}`, '-L', `127.0.0.1:${SSH_SINK_PORT}:127.0.0.1:${SINK_PORT}`, `root@${bobIp}`]))
    await waitFor('ssh -L in alice\'s namespace', async () => await listeningInNs(net.ns.alice, SSH_SINK_PORT), 20_000, 50)

    const paths: Record<string, LoadedLinkPath> = {}
    for (const [name, [echo, sink]] of Object.entries({ cspace: forwards, 'ssh -L': [SSH_ECHO_PORT, SSH_SINK_PORT] })) {
      log(`loaded link: ${name}`)
      const client = fileURLToPath(new URL('../loaded-client-process.js', import.meta.url))
      const { stdout } = await exec(...inNamespace(net.ns.alice, process.execPath, [client, String(echo), String(sink), String(opts.samples), String(opts.settleMs)]), { timeout: 300_000 })
      const r = JSON.parse(stdout) as { idleMs: number[], busyMs: number[], uploadMbit: number }
      paths[name] = { idleMs: summarize(r.idleMs), busyMs: summarize(r.busyMs), uploadMbit: r.uploadMbit }
    }
    return { rateMbit: opts.rateMbit, queueMs: opts.queueMs, paths }
  } finally {
    for (const h of helpers) await h.stop()
    await sshd?.stop()
    // the daemons, socat and ssh: a namespace removed under them would leave them running, cut off
    for (const who of ['alice', 'bob'] as const) await stopProcessesIn(net.ns[who])
    await net.destroy()
  }
}

/** Alice's and bob's daemons in their namespaces, bob exposing echo and sink, alice forwarding both; her two ports. */
async function cspaceForwards (net: Topology, log: (s: string) => void): Promise<[number, number]> {
  // independent steps at once: each is a process start
  const [bob, alice] = await Promise.all([
    makeProfile('loaded-bob', { config: { listen: ['/ip4/0.0.0.0/tcp/4001'] } }),
    makeProfile('loaded-alice', { config: { listen: ['/ip4/0.0.0.0/tcp/0'] } })
  ])
  const cli = async (home: string, ns: string, args: string[]): Promise<string> => {
    const r = await runCli(home, args, { netns: ns })
    if (r.code !== 0) throw new Error(`cspace ${args.join(' ')}: ${r.stderr.trim()}`)
    return r.stdout
  }
  await Promise.all([
    cli(alice.home, net.ns.alice, ['contacts', 'add', 'bob', bob.userId]),
    cli(bob.home, net.ns.bob, ['contacts', 'add', 'alice', alice.userId])
  ])
  const bobD = await startDaemon(bob.home, [], { netns: net.ns.bob })
  // it listens on every address of its namespace; alice dials the segment's
  const bobPeer = bobD.addresses[0]?.split('/p2p/')[1]
  if (bobPeer == null) throw new Error(`bob's daemon reported no address: ${bobD.addresses.join(' ')}`)
  await Promise.all([
    startDaemon(alice.home, ['--bootstrap', `/ip4/${net.publicIp.bob}/tcp/4001/p2p/${bobPeer}`], { netns: net.ns.alice }),
    cli(bob.home, net.ns.bob, ['expose', 'echo', `127.0.0.1:${ECHO_PORT}`]),
    cli(bob.home, net.ns.bob, ['expose', 'sink', `127.0.0.1:${SINK_PORT}`])
  ])
  const [echo, sink] = (await Promise.all([
    cli(alice.home, net.ns.alice, ['forward', '0', 'bob', 'echo']),
    cli(alice.home, net.ns.alice, ['forward', '0', 'bob', 'sink'])
  ])).map(out => Number(out.trim()))
  log(`loaded link: daemons up, ${net.publicIp.alice} → ${net.publicIp.bob}`)
  return [echo, sink]
}
