import { createServer, connect, type Server, type Socket } from 'node:net'
import type { Sshd } from '../../test/helpers/sshd.js'
import { makeProfile, runCli, startDaemon } from '../../test/helpers/cli.js'
import { echoServer, sshTunnel } from '../tools.js'
import { summarize, type Summary } from '../stats.js'
import { roundTrip } from './latency.js'

export interface LinkLatencyResult {
  /** The link's round-trip time, from the delay proxy's setting. */
  rttMs: number
  ms: Record<string, Summary>
}

/**
 * A TCP proxy that holds every chunk `oneWayMs` in each direction: a link
 * with that much more round-trip time, in user space (this kernel has no
 * netem). Order is kept; bandwidth is not limited.
 */
export async function delayProxy (target: number, oneWayMs: number): Promise<{ port: number, server: Server }> {
  const server = createServer((a: Socket) => {
    const b = connect(target, '127.0.0.1')
    for (const s of [a, b]) { s.setNoDelay(true); s.on('error', () => { a.destroy(); b.destroy() }) }
    // A timer may fire up to a millisecond early by performance.now() (libuv's
    // cached loop clock), so each chunk waits in a queue until it is really
    // due; one queue per direction keeps the order.
    const forward = (from: Socket, to: Socket): void => {
      const queue: Array<{ due: number, data: Buffer | null }> = [] // null: the end
      let timer: NodeJS.Timeout | undefined
      const pump = (): void => {
        timer = undefined
        while (queue.length > 0 && queue[0].due <= performance.now()) {
          const { data } = queue.shift()!
          if (data == null) to.end()
          else if (!to.destroyed) to.write(data)
        }
        if (queue.length > 0) timer = setTimeout(pump, Math.max(1, Math.ceil(queue[0].due - performance.now())))
      }
      const hold = (data: Buffer | null): void => {
        queue.push({ due: performance.now() + oneWayMs, data })
        timer ??= setTimeout(pump, oneWayMs)
      }
      from.on('data', (d: Buffer) => { hold(d) })
      from.on('end', () => { hold(null) })
    }
    forward(a, b)
    forward(b, a)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as { port: number }).port, server }
}

/**
 * Warm connect latency where round trips cost what they cost between real
 * hosts: alice's daemon reaches bob's through a delay proxy (her only
 * connection to him), and the anchors cross the same delay — the echo
 * server directly, and an ssh -L whose session is up to an sshd behind it.
 * On loopback a round trip costs microseconds and the daemons' CPU decides;
 * here the protocol's round trips do.
 */
export async function measureLinkLatency (sshd: Sshd, opts: { samples: number, rttMs: number }): Promise<LinkLatencyResult> {
  const oneWay = opts.rttMs / 2
  const echo = await echoServer()
  const echoFar = await delayProxy(echo.port, oneWay)
  const sshdFar = await delayProxy(sshd.port, oneWay)
  const alice = await makeProfile('link-alice')
  const bob = await makeProfile('link-bob')
  await runCli(alice.home, ['contacts', 'add', 'bob', bob.userId])
  await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])
  const bobD = await startDaemon(bob.home)
  const [, , , , bobPort, , bobPeer] = bobD.addresses[0].split('/')
  const bobFar = await delayProxy(Number(bobPort), oneWay)
  const aliceD = await startDaemon(alice.home, ['--bootstrap', `/ip4/127.0.0.1/tcp/${bobFar.port}/p2p/${bobPeer}`])
  await runCli(bob.home, ['expose', 'echo', `127.0.0.1:${echo.port}`])
  const forward = Number((await runCli(alice.home, ['forward', '0', 'bob', 'echo'])).stdout.trim())
  const ssh = await sshTunnel({ ...sshd, port: sshdFar.port }, echo.port)
  const paths: Record<string, number> = { 'direct (same link)': echoFar.port, 'ssh -L (session up)': ssh, 'cspace warm': forward }
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map(k => [k, []]))
  for (const port of Object.values(paths)) await roundTrip(port)
  for (let i = 0; i < opts.samples; i++) {
    for (const [name, port] of Object.entries(paths)) samples[name].push(await roundTrip(port))
  }
  const connections = JSON.parse((await runCli(alice.home, ['connections', '--json'])).stdout) as Array<{ peerId: string, remoteAddr: string }>
  if (!connections.every(c => c.peerId !== bobPeer || c.remoteAddr.includes(`/tcp/${bobFar.port}/`))) throw new Error('alice reached bob around the delayed link')
  await Promise.all([aliceD.stop(), bobD.stop()])
  for (const s of [echo.server, echoFar.server, sshdFar.server, bobFar.server]) s.close()
  return { rttMs: opts.rttMs, ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])) }
}
