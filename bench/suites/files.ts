import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createWriteStream, linkSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { once } from 'node:events'
import type { Sshd } from '../../test/helpers/sshd.js'
import { tempDir, writeRandomFile } from '../../test/helpers/files.js'
import { runCli } from '../../test/helpers/cli.js'
import { waitFor } from '../../test/helpers/wait.js'
import { cpuSeconds, exec, sshArgs } from '../tools.js'
import { summarize, type Summary } from '../stats.js'
import type { Topology } from '../topology.js'

export interface FileResult { bytes: number, mbps: Record<string, Summary>, cpuSecondsPerGiB: number }

/** A one-shot plain receiver: one connection's bytes written to a file; resolves when the file is closed. */
async function receiveOnce (path: string): Promise<{ port: number, done: Promise<void> }> {
  const server = createServer()
  const done = new Promise<void>((resolve, reject) => {
    server.once('connection', (sock) => {
      server.close()
      const file = createWriteStream(path)
      sock.pipe(file)
      file.once('finish', () => resolve())
      file.once('error', reject)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as { port: number }).port, done }
}

/**
 * bob's file-transfer app saves into `dir` and accepts alice's files without asking;
 * waits for the app host, which the daemon starts beside the node.
 */
async function prepareReceiver (topo: Topology, dir: string): Promise<void> {
  await waitFor('bob\'s files host', async () => (await runCli(topo.bob.home, ['transfers', 'config', '--downloads', dir, '--accept-from', 'alice'])).code === 0, 30_000, 200)
}

/** `cspace send` of `src` under a fresh name (a new transfer each time, not a resumed one); returns the saved file's path. */
async function cspaceSend (topo: Topology, src: string, dir: string, downloads: string, r: number): Promise<string> {
  const named = join(dir, `send${r}.bin`)
  linkSync(src, named)
  const res = await runCli(topo.alice.home, ['send', 'bob', named], { timeoutMs: 30 * 60_000 })
  rmSync(named)
  if (res.code !== 0) throw new Error(`cspace send: ${res.stderr}`)
  return join(downloads, `send${r}.bin`)
}

/**
 * Every sample starts from the same state: the previous output deleted and
 * nothing left to write back. On this VM a write into memory the guest just
 * freed costs ~0.2 s per GiB, into memory it has not touched lately ~1.7 s
 * (the host faults it in): when only scp's receiver truncated a 1 GiB file
 * just before writing, scp got the cheap pages and cspace send the dear ones.
 */
async function startEven (out: string): Promise<void> {
  rmSync(out, { force: true })
  await exec('sync', [])
}

/**
 * A file sent to a plain receiver: directly, through cspace forward → expose,
 * with `cspace send` (the file-transfer app: chunks hashed and checked,
 * resumable, saved into bob's downloads), and with scp to the local sshd.
 * Also the daemons' CPU seconds per GiB relayed.
 */
export async function measureFiles (topo: Topology, sshd: Sshd, opts: { bytes: number, repeats: number }): Promise<FileResult> {
  const dir = tempDir('cspace-bench-files-')
  const src = join(dir, 'src.bin')
  writeRandomFile(src, opts.bytes)
  const out = join(dir, 'out.bin')
  const samples: Record<string, number[]> = { direct: [], cspace: [], 'cspace send': [], scp: [] }
  const downloads = join(dir, 'downloads')
  mkdirSync(downloads)
  await prepareReceiver(topo, downloads)
  let cpu = 0
  let relayed = 0
  for (let r = 0; r < opts.repeats; r++) {
    for (const path of Object.keys(samples)) {
      await startEven(out)
      const t0 = performance.now()
      if (path === 'cspace send') {
        const saved = await cspaceSend(topo, src, dir, downloads, r)
        const elapsed = (performance.now() - t0) / 1000
        if (statSync(saved).size !== opts.bytes) throw new Error(`cspace send: saved ${statSync(saved).size} of ${opts.bytes} bytes`)
        rmSync(saved)
        samples[path].push(opts.bytes / 1e6 / elapsed)
        continue
      }
      if (path === 'scp') {
        await exec('scp', ['-q', ...sshArgs(sshd).map(a => a === '-p' ? '-P' : a), src, `root@127.0.0.1:${out}`])
      } else {
        const rx = await receiveOnce(out)
        let port = rx.port
        const cpu0 = cpuSeconds(topo.aliceD.proc.pid as number) + cpuSeconds(topo.bobD.proc.pid as number)
        if (path === 'cspace') port = await topo.tunnel(`recv${r}`, rx.port)
        const t1 = performance.now()
        await exec('socat', ['-u', `OPEN:${src}`, `TCP:127.0.0.1:${port}`])
        await rx.done
        if (path === 'cspace') {
          cpu += cpuSeconds(topo.aliceD.proc.pid as number) + cpuSeconds(topo.bobD.proc.pid as number) - cpu0
          relayed += opts.bytes
          samples[path].push(opts.bytes / 1e6 / ((performance.now() - t1) / 1000))
          continue
        }
      }
      if (statSync(out).size !== opts.bytes) throw new Error(`${path}: received ${statSync(out).size} of ${opts.bytes} bytes`)
      samples[path].push(opts.bytes / 1e6 / ((performance.now() - t0) / 1000))
    }
  }
  return { bytes: opts.bytes, mbps: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])), cpuSecondsPerGiB: cpu / (relayed / 2 ** 30) }
}
