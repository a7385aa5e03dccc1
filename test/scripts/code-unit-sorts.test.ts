import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { CODE_UNIT_SORTS, codeUnitSorts, rewriteSorts, unlistedLocaleSorts } from '../../scripts/code-unit-sorts.js'
import { cleanupAll, makeProfile, ROOT, runCli, startDaemon } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { waitFor } from '../helpers/wait.js'

describe('the cspace bundle sorts without ICU collation (scripts/code-unit-sorts.ts)', () => {
  after(cleanupAll)

  test('each edit replaces exactly the text it names; a changed library fails the build, naming the module', () => {
    const edit = { module: 'm.js', from: 'a.localeCompare(b)', to: 'compareCodeUnits(a, b)', count: 1 }
    const source = `x.sort((a, b) => { return ${edit.from} }); y.sort((a, b) => ${edit.from})`
    const out = rewriteSorts('m.js', source, [{ ...edit, count: 2 }])
    assert.equal(out.includes('localeCompare'), false)
    assert.match(out, /function compareCodeUnits \(a, b\)/)
    // a fixed order: UTF-16 code units
    const compare = new Function(`${out.slice(out.indexOf('function compareCodeUnits'))}; return compareCodeUnits`)() as (a: string, b: string) => number
    assert.deepEqual(['/ip4/9', '/ip4/10', '/dns4/a', '/ip4/1'].sort(compare), ['/dns4/a', '/ip4/1', '/ip4/10', '/ip4/9'])
    assert.equal(compare('x', 'x'), 0)
    assert.throws(() => rewriteSorts('m.js', source, [edit]), /m\.js: expected 1 × .* found 2; the library changed/)
    assert.throws(() => rewriteSorts('m.js', 'nothing here', [edit]), /found 0/)
    assert.throws(() => rewriteSorts('m.js', `${edit.from}; c.localeCompare(d)`, [edit]), /a localeCompare not covered/)
  })

  test('every listed module is where the edit says, with the text it names', () => {
    for (const module of new Set(CODE_UNIT_SORTS.map(e => e.module))) {
      const source = readFileSync(join(ROOT, 'node_modules', module), 'utf8')
      assert.doesNotThrow(() => rewriteSorts(module, source, CODE_UNIT_SORTS.filter(e => e.module === module)), module)
    }
  })

  test('a localeCompare anywhere else in the bundle fails the build unless its module is allowed', async () => {
    const files: Record<string, string> = {
      'node_modules/some-lib/sort.js': 'names.sort((a, b) => a.localeCompare(b))',
      'node_modules/other-lib/collate.js': 'const c = new Intl.Collator(); names.sort(c.compare)',
      'node_modules/commander/lib/help.js': 'a.name().localeCompare(b.name())',
      'node_modules/@libp2p/peer-store/dist/src/utils/to-peer-pb.js': 'a.localeCompare(b)', // edited as it loads
      'dist/src/cli/main.js': 'no sorting here',
      'node_modules/some-lib/data.json': '"localeCompare"',
      'node_modules/it-sort/index.js': '/**\n * sort(values, (a, b) => a.localeCompare(b))\n */\nexport function sort () {} // or localeCompare'
    }
    assert.deepEqual(await unlistedLocaleSorts(Object.keys(files), async (p) => files[p]), ['node_modules/some-lib/sort.js', 'node_modules/other-lib/collate.js'])
    // the plugin, on a bundle whose own code sorts by locale
    const bundling = build({ stdin: { contents: "export { PeerRecord } from '@libp2p/peer-record'; export { persistentPeerStore } from '@libp2p/peer-store'; export { registerLocaleSort } from './test/helpers/locale-sort-fixture.js'", resolveDir: join(ROOT, 'dist') }, absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent', plugins: [codeUnitSorts()] })
    await assert.rejects(bundling, /localeCompare or Intl\.Collator in dist\/test\/helpers\/locale-sort-fixture\.js: it loads ICU's collation tables/)
  })

  test('a bundle that no longer loads a listed module fails to build, naming it', async () => {
    // peer-record's edited module loads; the peer store's do not
    const bundling = build({ stdin: { contents: "import '@libp2p/peer-record'", resolveDir: ROOT }, bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent', plugins: [codeUnitSorts()] })
    await assert.rejects(bundling, /not bundled any more: @libp2p\/peer-store\/dist\/src\/utils\/to-peer-pb\.js, @libp2p\/peer-store\/dist\/src\/utils\/dedupe-addresses\.js; update scripts\/code-unit-sorts\.ts/)
    const whole = await build({ stdin: { contents: "export { PeerRecord } from '@libp2p/peer-record'; export { persistentPeerStore } from '@libp2p/peer-store'", resolveDir: ROOT }, bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent', plugins: [codeUnitSorts()] })
    const text = whole.outputFiles[0].text
    assert.equal(text.includes('localeCompare'), false)
    assert.match(text, /compareCodeUnits\d*\(a\.multiaddr\.toString\(\), b\.multiaddr\.toString\(\)\)/)
  })

  test('two daemons start, identify each other, carry a connect and list their state without one locale comparison', async () => {
    const dir = tempDir('cspace-locale-compare-')
    const recording = (log: string): Record<string, string> => ({
      NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'dist', 'test', 'helpers', 'locale-compare-recorder.js')).href}`,
      CSPACE_TEST_LOCALE_COMPARE_LOG: log
    })
    // the recorder sees a comparison made in a process started this way
    const control = join(dir, 'control.log')
    const r = spawnSync(process.execPath, ['-e', "['b', 'a'].sort((x, y) => x.localeCompare(y))"], { env: { ...process.env, ...recording(control) } })
    assert.equal(r.status, 0, r.stderr.toString())
    assert.match(readFileSync(control, 'utf8'), /localeCompare called/)

    const log = join(dir, 'daemons.log')
    const env = recording(log)
    const [alice, bob] = await Promise.all([makeProfile('alice'), makeProfile('bob')])
    await Promise.all([runCli(alice.home, ['contacts', 'add', 'bob', bob.userId]), runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])])
    const bobD = await startDaemon(bob.home, [], { env })
    await startDaemon(alice.home, ['--bootstrap', bobD.addresses[0]], { env })
    // two services, so that listing them sorts
    for (const args of [['expose', 'echo', '--exec', 'cat'], ['expose', 'web', '127.0.0.1:8080']]) assert.equal((await runCli(bob.home, args)).code, 0)
    // identify has run both ways: each published its presence to the other,
    // which kad-dht knew of only from identify (the peer store sorted what it told)
    await waitFor('each daemon\'s presence stored by the other', async () => {
      const published = await Promise.all([alice, bob].map(async p => (JSON.parse((await runCli(p.home, ['status', '--json'])).stdout) as { presence?: { peers: number } }).presence?.peers ?? 0))
      return published.every(peers => peers > 0)
    }, 30_000, 200)
    const port = Number((await runCli(alice.home, ['forward', '0', 'bob', 'echo'])).stdout.trim())
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('ping'))
      // a refused or silent session fails here, not at the test runner's timeout
      socket.setTimeout(20_000, () => socket.destroy(new Error('no reply within 20 s')))
      socket.once('data', (b: Buffer) => { socket.destroy(); resolve(b.toString()) })
      socket.once('error', reject)
      socket.once('close', () => reject(new Error('the forward closed without a reply')))
    })
    assert.equal(reply, 'ping')
    assert.equal((await runCli(bob.home, ['status', '--json'])).code, 0)
    assert.equal(existsSync(log), false, existsSync(log) ? readFileSync(log, 'utf8') : '')
  })
})
