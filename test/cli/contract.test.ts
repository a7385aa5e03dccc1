import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { cleanupAll, makeProfile, runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'

/** The command-line contract: --help everywhere, exit codes 0/1/2, one-line errors on stderr. */
describe('cspace command line', () => {
  after(async () => { await cleanupAll() })

  test('--help works on every command and subcommand', async () => {
    const home = tempDir()
    const commands = [[], ['init'], ['id'], ['daemon'], ['contacts'], ['contacts', 'add'], ['contacts', 'list'], ['contacts', 'remove'], ['contacts', 'rename'],
      ['status'], ['connect'], ['forward'], ['expose'], ['requests'], ['rules'], ['rules', 'add'], ['rules', 'list'], ['rules', 'remove']]
    for (const c of commands) {
      const r = await runCli(home, [...c, '--help'])
      assert.equal(r.code, 0, `${c.join(' ')} --help: ${r.stderr}`)
      assert.match(r.stdout, /^Usage: cspace/, c.join(' '))
    }
  })

  test('a command group with no subcommand shows its help on stderr and exits 2; `help` asks for it and exits 0', async () => {
    const home = tempDir()
    for (const c of [[], ['contacts'], ['rules'], ['desktop']]) {
      const r = await runCli(home, c)
      assert.equal(r.code, 2, `${c.join(' ')}: ${r.code}`)
      assert.match(r.stderr, /^Usage: cspace/, c.join(' '))
      assert.equal(r.stdout, '', c.join(' '))
    }
    for (const c of [['help'], ['help', 'contacts'], ['contacts', 'help']]) {
      const r = await runCli(home, c)
      assert.equal(r.code, 0, `${c.join(' ')}: ${r.stderr}`)
      assert.match(r.stdout, /^Usage: cspace/, c.join(' '))
    }
  })

  test('usage errors exit 2 with a one-line message; runtime failures exit 1', async () => {
    const p = await makeProfile('cli')
    const usage: string[][] = [
      ['frobnicate'], ['contacts', 'add', 'bob'], ['init', '--key-type', 'dsa'], ['contacts', 'add', 'bob', 'cs1garbage'],
      ['forward', 'notaport', 'bob', 'ssh'], ['forward', '99999', 'bob', 'ssh'], ['forward', '1'], ['forward', '0', 'bob', 'Bad Service'],
      ['expose', 'ssh'], ['expose', 'ssh', 'localhost'], ['expose', 'ssh', '127.0.0.1:22', '--exec', 'cat'], ['expose', 'S!', '127.0.0.1:1'], ['expose', 'sh', '--exec', '  '],
      ['daemon', '--api-port', 'x'], ['requests', 'maybe', 'x'], ['rules', 'remove', 'abc'], ['rules', 'add', 'allow', 'bob', 'ssh', '--position', '-1'],
      ['contacts', 'add', 'me', p.userId], ['contacts', '--frobnicate'], ['send'],
      // a peer id cut short by a bad copy, and addresses that are none: checked before the node starts, as config.json's are
      ['daemon', '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWbad'], ['daemon', '--bootstrap', '/ip4/127.0.0.1/tcp/1'], ['daemon', '--listen', 'nonsense'],
      ['expose', 'y', 'a b:47801'], ['expose', 'y', '[nonsense]:1'], ['transfers', 'config', '--downloads', ''],
      // a misspelt subcommand of a command that also runs alone
      ['transfers', 'frob'], ['keyserver', 'frob']
    ]
    for (const args of usage) {
      const r = await runCli(p.home, args)
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`)
      assert.match(r.stderr, /^cspace: [^\n]+\n$/, `one line: ${args.join(' ')}`)
      assert.equal(r.stdout, '', args.join(' '))
    }
    assert.match((await runCli(p.home, ['transfers', 'frob'])).stderr, /^cspace: unknown command 'frob' for 'transfers' \(run cspace help transfers for its commands\)\n$/)
    const help = await runCli(p.home, ['keyserver', 'help'])
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /^Usage: cspace keyserver/)
    // no daemon running: runtime failures, saying what to do
    for (const args of [['status'], ['status', '--json'], ['connect', 'bob', 'ssh'], ['requests']]) {
      const r = await runCli(p.home, args)
      assert.equal(r.code, 1, args.join(' '))
      assert.equal(r.stderr, `cspace: no daemon is running for the profile ${p.home}; start one with \`cspace daemon\`\n`)
    }
    // only a daemon can pick a free port; a named one is saved for its next start (see daemon.test.ts)
    const anyPort = await runCli(p.home, ['forward', '0', 'bob', 'ssh'])
    assert.equal(anyPort.code, 1)
    assert.match(anyPort.stderr, /^cspace: no daemon is running for the profile .* to pick a free port; start one with `cspace daemon`, or name a port to save the forward for its next start\n$/)
    const noIdentity = await runCli(tempDir(), ['id'])
    assert.equal(noIdentity.code, 1)
    assert.match(noIdentity.stderr, /no identity at .*; run `cspace init` first/)
  })

  test('contacts: add, list --json, rename, remove, with the rules enforced', async () => {
    const a = await makeProfile('a')
    const b = await makeProfile('b')
    assert.equal((await runCli(a.home, ['contacts', 'add', 'Bob', b.userId])).code, 0)
    const dupName = await runCli(a.home, ['contacts', 'add', 'bob', a.userId])
    assert.equal(dupName.code, 2)
    const dupKey = await runCli(a.home, ['contacts', 'add', 'robert', b.userId])
    assert.equal(dupKey.code, 2)
    assert.match(dupKey.stderr, /already your contact "Bob"/)
    assert.equal((await runCli(a.home, ['contacts', 'rename', 'bob', 'robert'])).code, 0)
    const list = JSON.parse((await runCli(a.home, ['contacts', 'list', '--json'])).stdout)
    assert.deepEqual(list.map((c: { name: string, userId: string }) => [c.name, c.userId]), [['robert', b.userId]])
    assert.equal((await runCli(a.home, ['contacts', 'remove', 'ROBERT'])).code, 0)
    assert.deepEqual(JSON.parse((await runCli(a.home, ['contacts', 'list', '--json'])).stdout), [])
    const missing = await runCli(a.home, ['contacts', 'remove', 'robert'])
    assert.equal(missing.code, 2, 'naming a contact that does not exist is a usage error')
    assert.match(missing.stderr, /no contact named "robert"/)
  })
})
