import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, cleanupAll } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { missingDesktopBinaries } from '../helpers/xvfb.js'
import { netnsUnavailable } from '../helpers/netns.js'
import { RELAY_PAIR } from '../../bench/suites/latency.js'

const exec = promisify(execFile)

/** The benchmark harness on tiny sizes, so `npm run bench` cannot rot. No timing is asserted. */
test('npm run bench harness runs end to end and reports every figure', async () => {
  const out = join(tempDir(), 'bench.json')
  try {
    const { stdout } = await exec(process.execPath, [join(ROOT, 'dist', 'bench', 'run.js'), '--tiny', '--out', out], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 })
    assert.match(stdout, /tunnel throughput/)
    const r = JSON.parse(readFileSync(out, 'utf8'))
    assert.equal(r.mode, 'tiny')
    const positive = (v: unknown, what: string): void => assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${what} = ${String(v)}`)
    for (const t of r.throughput) {
      for (const p of ['direct', 'socat', 'ssh -L', 'cspace']) positive(t.gbps[p].median, `throughput ${p}`)
      positive(t.peakRssMiB.alice, 'peak RSS of the forward side')
      positive(t.peakRssMiB.bob, 'peak RSS of the expose side')
    }
    for (const p of ['direct', 'cspace', 'scp']) positive(r.files.mbps[p].median, `files ${p}`)
    positive(r.files.cpuSecondsPerGiB, 'cpu per GiB')
    for (const p of ['direct', RELAY_PAIR, 'ssh -L (session up)', 'cspace warm', 'ssh fresh']) positive(r.latency.ms[p].median, `latency ${p}`)
    // the one new user's first connect, counted as cold or as already connected by the DHT
    const first = ['cspace cold', 'cspace first, DHT-connected'].filter(p => r.latency.ms[p] != null)
    assert.equal(first.reduce((n, p) => n + Number(r.latency.ms[p].n), 0), 1, `one first connect in ${JSON.stringify(r.latency.ms)}`)
    for (const p of first) positive(r.latency.ms[p].median, `latency ${p}`)
    assert.equal(r.latency.dhtSize, 9, 'router, alice, bob, one new user and 5 plain DHT peers')
    assert.equal(r.linkLatency.rttMs, 10)
    for (const p of ['direct (same link)', 'ssh -L (session up)', 'cspace warm']) {
      assert.equal(r.linkLatency.ms[p].n, 3, `link latency ${p}: every sample`)
      // the delay proxy adds 10 ms per round trip: a figure below it did not cross the link
      assert.ok(r.linkLatency.ms[p].min >= 10, `link latency ${p} crossed the link: ${r.linkLatency.ms[p].min} ms`)
    }
    // the loaded link needs network namespaces (root; CI has them); without them it is skipped and left out
    if (await netnsUnavailable() != null) {
      assert.equal(r.loaded, undefined, 'the loaded-link suite was skipped')
    } else {
      assert.equal(r.loaded.rateMbit, 20)
      for (const p of ['cspace', 'ssh -L']) {
        assert.equal(r.loaded.paths[p].idleMs.n, 3, `loaded link ${p}: every idle sample`)
        assert.equal(r.loaded.paths[p].busyMs.n, 3, `loaded link ${p}: every busy sample`)
        // the upload crossed the 20 Mbit/s link: a rate far above it never left the machine's loopback
        assert.ok(r.loaded.paths[p].uploadMbit > 0 && r.loaded.paths[p].uploadMbit < 100, `loaded link ${p} upload ${r.loaded.paths[p].uploadMbit} Mbit/s`)
      }
    }
    assert.equal(r.busy.uploads, 4)
    for (const p of ['cspace', 'ssh -L']) {
      assert.equal(r.busy.paths[p].busyMs.n, 3, `busy tunnels ${p}: every round trip came back`)
      assert.equal(r.busy.paths[p].failed, 0, `busy tunnels ${p}: no round trip failed`)
      assert.equal(r.busy.paths[p].uploadsCut, 0, `busy tunnels ${p}: no upload cut`)
      positive(r.busy.paths[p].uploadMbit, `busy tunnels ${p} uploads`)
    }
    for (const p of ['raw TCP', 'cspace chat']) assert.equal(r.chat.deliveryMs[p].n, 5, `chat delivery ${p}: every sample`)
    positive(r.chat.deliveryMs['cspace chat'].median, 'chat delivery')
    assert.equal(r.chat.burst.messages, 20)
    positive(r.chat.burst.perSecond, 'chat burst messages/s')
    // the desktop suite needs Xvfb and x11vnc (CI installs them); without them it is skipped and left out
    if (missingDesktopBinaries().length > 0) {
      assert.equal(r.desktop, undefined, 'the desktop suite was skipped')
    } else {
      assert.match(stdout, /remote desktop/)
      assert.equal(r.desktop.updateBytes, r.desktop.width * r.desktop.height * 4, 'a full-screen 32 bpp Raw update')
      for (const p of ['direct', 'ssh -L', 'cspace']) {
        for (const figure of ['setupMs', 'updateMs', 'updateMBps']) {
          assert.equal(r.desktop[figure][p].n, 3, `desktop ${figure} ${p}: every sample`)
          positive(r.desktop[figure][p].median, `desktop ${figure} ${p}`)
        }
      }
    }
    positive(r.footprint.idleRssMiB, 'idle RSS')
    positive(r.footprint.aliceRssWithTunnelsMiB, 'RSS with tunnels')
    assert.ok(r.versions.libp2p.length > 0 && r.machine.cpus > 0)
    assert.equal(r.dht.length, 1)
    assert.equal(r.dht[0].nodes, 20)
    assert.ok(r.dht[0].publish.successRate > 0, 'presence records were published in the simulated DHT')
    for (const run of r.dht[0].runs) {
      assert.equal(run.lookups, 20)
      positive(run.messagesPerLookup.median, 'DHT messages per lookup')
      assert.equal(run.requestErrorsPerLookup.n, 20, 'failed requests are counted for every lookup')
      assert.ok(run.successRate >= 0 && run.successRate <= 1)
    }
    // the key server with each store: every request answered as expected (the suite throws otherwise)
    assert.match(stdout, /key server, 16 requests in flight, 2 rounds/)
    const ks = r.keyserver
    for (const store of ['sqlite', 'postgres']) {
      for (const [phase, requests] of [['register', 30], ['lookup', 60], ['health', 60]] as const) {
        const p = ks[store][phase]
        assert.equal(p.requests, requests, `${store} ${phase} requests`)
        assert.equal(p.latencyMs.n, requests, `${store} ${phase}: a latency for every request`)
        assert.equal(p.perSecondRounds.n, 2, `${store} ${phase}: two rounds`)
        positive(p.perSecond, `key server ${store} ${phase} requests/s`)
        positive(p.latencyMs.median, `key server ${store} ${phase} median latency`)
        positive(p.latencyMs.p99, `key server ${store} ${phase} p99 latency`)
        // CPU is counted in 10 ms ticks: a few dozen requests may take none
        for (const [who, cpu] of Object.entries(p.cpuPer1000)) assert.ok(Number.isFinite(cpu) && (cpu as number) >= 0, `${store} ${phase} CPU of ${who}`)
      }
      positive(ks[store].lookupToHealth, `${store} lookups to /health`)
    }
    for (const phase of ['register', 'lookup', 'health']) positive(ks.postgresToSqlite[phase], `PostgreSQL to SQLite, ${phase}`)
    positive(ks.clientSignMs, 'client signing ms')
  } finally {
    await cleanupAll()
  }
})

test('--only runs the named suites and --dht-lookups sets the lookups; a bad suite name is a usage error', async () => {
  const out = join(tempDir(), 'bench.json')
  const bench = join(ROOT, 'dist', 'bench', 'run.js')
  await exec(process.execPath, [bench, '--tiny', '--only', 'dht', '--dht', '12', '--dht-lookups', '5', '--out', out], { timeout: 120_000 })
  const r = JSON.parse(readFileSync(out, 'utf8'))
  assert.equal(r.latency, undefined, 'the latency suite did not run')
  assert.equal(r.throughput, undefined, 'the throughput suite did not run')
  assert.equal(r.keyserver, undefined, 'the key server suite did not run')
  assert.deepEqual(r.dht.map((d: { nodes: number }) => d.nodes), [12])
  for (const run of r.dht[0].runs) assert.equal(run.lookups, 5)
  await assert.rejects(exec(process.execPath, [bench, '--only', 'latency,bogus']), (err: { code: number, stderr: string }) =>
    err.code === 2 && /unknown suite bogus; choose from/.test(err.stderr) && err.stderr.trim().split('\n').length === 1)
})
