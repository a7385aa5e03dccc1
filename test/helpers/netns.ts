import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'

const exec = promisify(execFile)

/**
 * Real NAT for tests: Linux network namespaces joined by veth pairs, with
 * iptables doing the NAT and the filtering, as on a home router.
 *
 *   "internet" namespace: a bridge, the one shared segment 5.0.0.0/24
 *     ├─ router1 5.0.0.11, router2 5.0.0.12   (public hosts)
 *     ├─ NAT box of a user 5.0.0.2x ── LAN 192.168.x.0/24 ── the user 192.168.x.2
 *     └─ or the user itself 5.0.0.3x, open or behind its own firewall
 *
 * The shared segment uses a range libp2p counts as public, because libp2p
 * drops every reserved range (10/8, TEST-NETs, 198.18/15 …) as "private"
 * from what it advertises and punches; users then run with
 * allowPrivateAddresses off, as on the real internet. The addresses exist
 * only inside these namespaces: nothing is routed off the machine.
 */
export type UserEdge =
  /** endpoint-independent NAT (MASQUERADE): hole punching can work */
  | 'cone'
  /** a new random source port per connection (MASQUERADE --random-fully) */
  | 'symmetric'
  /** a public address whose host drops every inbound connection */
  | 'firewall'
  /** a public address, open: reachable directly */
  | 'public'

export interface Topology {
  /** Namespace names, to run things in with `ip netns exec`. */
  ns: { router1: string, router2: string, alice: string, bob: string }
  /** Each host's address on the shared segment (a NATed user's: its NAT box's). */
  publicIp: { router1: string, router2: string, alice: string, bob: string }
  /** Gives a user a new address on the shared segment, as an ISP reassigning one (a NATed user's NAT box gets it). */
  changePublicIp: (who: 'alice' | 'bob', ip: string) => Promise<void>
  /** Removes every namespace (and with them the links and rules). Idempotent. */
  destroy: () => Promise<void>
}

async function ip (...args: string[]): Promise<void> {
  await exec('ip', args)
}

async function inNs (ns: string, cmd: string, ...args: string[]): Promise<void> {
  await exec(...inNamespace(ns, cmd, args))
}

/** `command args` to run inside `ns` (`ip netns exec` execs, so the pid is the command's), or as it is without one. */
export function inNamespace (ns: string | undefined, command: string, args: string[]): [string, string[]] {
  return ns == null ? [command, args] : ['ip', ['netns', 'exec', ns, command, ...args]]
}

/** The processes running in `ns`; none if it is gone. */
async function pidsIn (ns: string): Promise<number[]> {
  const { stdout } = await exec('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }))
  return stdout.split('\n').filter(Boolean).map(Number)
}

/** Why namespace tests cannot run here, or undefined if they can. */
export async function netnsUnavailable (): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and iptables)'
  for (const tool of [['ip', '-V'], ['iptables', '--version']]) {
    try {
      await exec(tool[0], tool.slice(1))
    } catch {
      return `needs ${tool[0]} (Debian packages iproute2 and iptables)`
    }
  }
  return undefined
}

const TOPOLOGY_NS = /^cs[0-9a-f]{6}-/

/**
 * Namespaces a killed test run left behind (its `after` never ran), with the
 * processes still in them; tests run one file at a time, so none is in use.
 */
async function removeStaleTopologies (): Promise<void> {
  const { stdout } = await exec('ip', ['netns', 'list'])
  for (const ns of stdout.split('\n').map(l => l.split(' ')[0]).filter(n => TOPOLOGY_NS.test(n))) {
    for (const pid of await pidsIn(ns)) { try { process.kill(pid, 'SIGKILL') } catch {} }
    await ip('netns', 'del', ns).catch(() => {})
  }
}

/** Builds the topology with alice's and bob's edges as given; call destroy() in `after`, it also runs on a failed build. */
export async function createTopology (edges: { alice: UserEdge, bob: UserEdge }): Promise<Topology> {
  await removeStaleTopologies()
  const tag = `cs${randomBytes(3).toString('hex')}`
  const created: string[] = []
  const destroy = async (): Promise<void> => {
    for (const ns of created.splice(0).reverse()) await ip('netns', 'del', ns).catch(() => {})
  }
  const newNs = async (name: string): Promise<string> => {
    const ns = `${tag}-${name}`
    await ip('netns', 'add', ns)
    created.push(ns)
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up')
    return ns
  }
  let veths = 0
  /** A veth pair: `a` side named ifA in nsA, `b` side named ifB in nsB. */
  const link = async (nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> => {
    const tmpA = `${tag}a${veths}`
    const tmpB = `${tag}b${veths++}`
    await ip('link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB)
    await ip('link', 'set', tmpA, 'netns', nsA)
    await ip('link', 'set', tmpB, 'netns', nsB)
    await inNs(nsA, 'ip', 'link', 'set', tmpA, 'name', ifA)
    await inNs(nsB, 'ip', 'link', 'set', tmpB, 'name', ifB)
    await inNs(nsA, 'ip', 'link', 'set', ifA, 'up')
    await inNs(nsB, 'ip', 'link', 'set', ifB, 'up')
  }

  try {
    const inet = await newNs('inet')
    await inNs(inet, 'ip', 'link', 'add', 'br0', 'type', 'bridge')
    await inNs(inet, 'ip', 'link', 'set', 'br0', 'up')
    let ports = 0
    /** A host on the shared segment: its namespace gets eth0 with `addr`. */
    const publicHost = async (ns: string, addr: string): Promise<void> => {
      const port = `p${ports++}`
      await link(inet, port, ns, 'eth0')
      await inNs(inet, 'ip', 'link', 'set', port, 'master', 'br0')
      await inNs(ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
    }

    const router1 = await newNs('r1')
    await publicHost(router1, '5.0.0.11')
    const router2 = await newNs('r2')
    await publicHost(router2, '5.0.0.12')

    const user = async (name: 'alice' | 'bob', edge: UserEdge, n: number): Promise<{ ns: string, publicIp: string, edgeNs: string }> => {
      const ns = await newNs(name)
      if (edge === 'firewall' || edge === 'public') {
        const addr = `5.0.0.${30 + n}`
        await publicHost(ns, addr)
        if (edge === 'public') return { ns, publicIp: addr, edgeNs: ns }
        // the host's own stateful firewall: answers to its own connections only
        for (const rule of [
          ['-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT'],
          ['-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'],
          ['-P', 'INPUT', 'DROP']
        ]) await inNs(ns, 'iptables', ...rule)
        return { ns, publicIp: addr, edgeNs: ns }
      }
      const box = await newNs(`${name}-nat`)
      const wan = `5.0.0.${20 + n}`
      await publicHost(box, wan)
      await link(box, 'lan0', ns, 'eth0')
      await inNs(box, 'ip', 'addr', 'add', `192.168.${n}.1/24`, 'dev', 'lan0')
      await inNs(ns, 'ip', 'addr', 'add', `192.168.${n}.2/24`, 'dev', 'eth0')
      await inNs(ns, 'ip', 'route', 'add', 'default', 'via', `192.168.${n}.1`)
      await inNs(box, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1')
      const masquerade = ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']
      if (edge === 'symmetric') masquerade.push('--random-fully')
      await inNs(box, 'iptables', ...masquerade)
      // nothing from outside reaches the LAN unless it answers a LAN connection,
      // and the box itself drops (not refuses) what nobody asked for, as home
      // routers do: a refusal would end a hole punch's first SYN at once
      await inNs(box, 'iptables', '-A', 'FORWARD', '-i', 'eth0', '-m', 'conntrack', '!', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'DROP')
      await inNs(box, 'iptables', '-A', 'INPUT', '-i', 'eth0', '-m', 'conntrack', '!', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'DROP')
      return { ns, publicIp: wan, edgeNs: box }
    }
    const alice = await user('alice', edges.alice, 1)
    const bob = await user('bob', edges.bob, 2)
    const users = { alice, bob }
    const publicIp = { router1: '5.0.0.11', router2: '5.0.0.12', alice: alice.publicIp, bob: bob.publicIp }
    return {
      ns: { router1, router2, alice: alice.ns, bob: bob.ns },
      publicIp,
      changePublicIp: async (who, address) => {
        // deleting the address also drops the NAT's mappings (MASQUERADE forgets them), as a real box's reboot does
        await inNs(users[who].edgeNs, 'ip', 'addr', 'del', `${publicIp[who]}/24`, 'dev', 'eth0')
        await inNs(users[who].edgeNs, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0')
        publicIp[who] = address
      },
      destroy
    }
  } catch (err) {
    await destroy()
    throw err
  }
}

/**
 * Limits what a namespace sends on `dev` to `rateMbit`, as the uplink of a
 * home connection does: a token bucket (tc tbf; this kernel has no netem)
 * whose queue holds at most `queueMs` of traffic, the rest dropped.
 */
export async function limitUplink (ns: string, dev: string, rateMbit: number, queueMs: number): Promise<void> {
  await inNs(ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '32kbit', 'latency', `${queueMs}ms`)
}

/** True once something listens on TCP `port` inside `ns` (any address). */
export async function listeningInNs (ns: string, port: number): Promise<boolean> {
  const { stdout } = await exec(...inNamespace(ns, 'ss', ['-Htln', `sport = :${port}`]))
  return stdout.trim() !== ''
}

/** Stops every process in `ns` (SIGTERM, then SIGKILL after 10 s) and waits until they are gone. */
export async function stopProcessesIn (ns: string): Promise<void> {
  const signal = async (sig: NodeJS.Signals): Promise<void> => { for (const pid of await pidsIn(ns)) { try { process.kill(pid, sig) } catch {} } }
  await signal('SIGTERM')
  const deadline = Date.now() + 10_000
  while ((await pidsIn(ns)).length > 0) {
    if (Date.now() > deadline) { await signal('SIGKILL'); break }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
