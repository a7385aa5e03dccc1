import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { LocalApiClient } from '../../src/sdk/api-client.js'
import { RELEASE_AFTER_START_MS } from '../../src/util/release-memory.js'
import { echoServer, privateMiB, processAgeMs, rssMiB, waitForQuiet } from '../tools.js'
import type { Topology } from '../topology.js'

export interface FootprintResult { idleRssMiB: number, idlePrivateMiB: number, contacts: number, tunnels: number, aliceRssWithTunnelsMiB: number, bobRssWithTunnelsMiB: number }

/** Resident memory: bob's daemon idle with N contacts, then both daemons carrying M open tunnels. */
export async function measureFootprint (topo: Topology, opts: { contacts: number, tunnels: number }): Promise<FootprintResult> {
  // bob already has alice; fill the list up with real keys, through the
  // daemon's API (POST /v1/contacts, as the web UI adds one) rather than a
  // `cspace contacts add` process per contact, which writes the store itself
  // and then tells the daemon to reload its book
  const api = new LocalApiClient({ home: topo.bob.home })
  for (let i = 1; i < opts.contacts; i++) {
    const userId = userIdFromPublicKey((await generateKeyPair('Ed25519')).publicKey).text
    await api.post('/v1/contacts', { name: `friend${i}`, userId })
  }
  // idle: start-up done, which includes giving back the memory start-up freed
  // (src/util/release-memory.ts: a daemon does so RELEASE_AFTER_START_MS in;
  // bench/run.ts runs the link-latency suite first, so that is usually past)
  const bobPid = topo.bobD.proc.pid as number
  const age = processAgeMs(bobPid)
  if (age < RELEASE_AFTER_START_MS + 2000) await new Promise(resolve => setTimeout(resolve, RELEASE_AFTER_START_MS + 2000 - age))
  await waitForQuiet(bobPid)
  const idleRssMiB = rssMiB(bobPid)
  const idlePrivateMiB = privateMiB(bobPid)

  const echo = await echoServer()
  const port = await topo.tunnel('hold', echo.port)
  const sockets: Socket[] = []
  for (let i = 0; i < opts.tunnels; i++) {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => {})
    await once(s, 'connect')
    s.write('x')
    await once(s, 'data') // the tunnel is up end to end
    sockets.push(s)
  }
  const result = {
    idleRssMiB,
    idlePrivateMiB,
    contacts: opts.contacts,
    tunnels: opts.tunnels,
    aliceRssWithTunnelsMiB: rssMiB(topo.aliceD.proc.pid as number),
    bobRssWithTunnelsMiB: rssMiB(topo.bobD.proc.pid as number)
  }
  for (const s of sockets) s.destroy()
  echo.server.close()
  return result
}
