import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import type { Sshd } from '../../test/helpers/sshd.js'
import { freePort } from '../../test/helpers/sshd.js'
import { waitPort } from '../../test/helpers/wait.js'
import type { Topology } from '../topology.js'
import { startReadyProcess, type ReadyProcess } from '../ready-process.js'
import { sshArgs, startTool } from '../tools.js'
import { summarize, type Summary } from '../stats.js'

const exec = promisify(execFile)

export interface BusyTunnelsPath {
  idleMs: Summary
  /** New connections' round trips while the uploads run. */
  busyMs: Summary
  /** What all uploads together delivered to the sink meanwhile. */
  uploadMbit: number
  /** Uploads whose connection was closed under them. */
  uploadsCut: number
  /** Round trips that never came back. */
  failed: number
}

export interface BusyTunnelsResult {
  uploads: number
  paths: Record<string, BusyTunnelsPath>
}

/**
 * A new connection while many tunnels to the same user are busy: UPLOADS
 * connections, each writing as fast as its tunnel takes it, to bob's sink
 * through cspace (one connection between the daemons) and through one
 * `ssh -L` session carrying both ports; meanwhile new connections to bob's
 * echo service, each a connect and a 1-byte round trip. On loopback, so what
 * is measured is how each shares one connection among its channels, not a
 * link's queue (the loaded-link suite). The client (loaded-client-process.ts)
 * and both services are processes of their own.
 */
export async function measureBusyTunnels (topo: Topology, sshd: Sshd, opts: { uploads: number, samples: number, settleMs: number }, log: (s: string) => void): Promise<BusyTunnelsResult> {
  const helpers: ReadyProcess[] = []
  try {
    const echoPort = await freePort()
    const sinkPort = await freePort()
    const countPort = await freePort()
    helpers.push(await startReadyProcess('./echo-process.js', [String(echoPort)], 'the echo service', 30_000))
    helpers.push(await startReadyProcess('./sink-process.js', [String(sinkPort), String(countPort)], 'the sink service', 30_000))
    const sshEcho = await freePort()
    const sshSink = await freePort()
    startTool('ssh', [...sshArgs(sshd), '-N', '-L', `127.0.0.1:${sshEcho}:127.0.0.1:${echoPort}`, '-L', `127.0.0.1:${sshSink}:127.0.0.1:${sinkPort}`, 'root@127.0.0.1'])
    await waitPort(sshEcho)
    await waitPort(sshSink)
    const cspace = [await topo.tunnel('busy-echo', echoPort), await topo.tunnel('busy-sink', sinkPort)]
    const paths: Record<string, BusyTunnelsPath> = {}
    for (const [name, [echo, sink]] of Object.entries({ 'ssh -L': [sshEcho, sshSink], cspace })) {
      log(`busy tunnels: ${name}, ${opts.uploads} uploads`)
      const client = fileURLToPath(new URL('../loaded-client-process.js', import.meta.url))
      const { stdout } = await exec(process.execPath, [client, String(echo), String(sink), String(opts.samples), String(opts.settleMs), String(opts.uploads), String(countPort)], { timeout: 300_000 })
      const r = JSON.parse(stdout) as { idleMs: number[], busyMs: number[], uploadMbit: number, uploadsCut: number, failed: number }
      paths[name] = { idleMs: summarize(r.idleMs), busyMs: summarize(r.busyMs), uploadMbit: r.uploadMbit, uploadsCut: r.uploadsCut, failed: r.failed }
    }
    return { uploads: opts.uploads, paths }
  } finally {
    for (const h of helpers) await h.stop()
  }
}
