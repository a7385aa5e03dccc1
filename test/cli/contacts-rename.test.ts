import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { cleanupAll, makeProfile, runCli, startDaemon } from '../helpers/cli.js'

async function ok (home: string, args: string[]): Promise<{ stdout: string, stderr: string }> {
  const r = await runCli(home, args)
  assert.equal(r.code, 0, `cspace ${args.join(' ')}: ${r.stderr}`)
  return r
}

async function rulesAndForwards (home: string): Promise<{ rules: string[], forwards: string[] }> {
  const rules = (JSON.parse((await ok(home, ['rules', 'list', '--json'])).stdout) as Array<{ text: string }>).map(e => e.text)
  const status = JSON.parse((await ok(home, ['status', '--json'])).stdout) as { forwards: Array<{ contact: string, service: string }> }
  return { rules, forwards: status.forwards.map(f => `${f.contact}/${f.service}`) }
}

/**
 * A contact's rules and forwards name them: renaming the contact takes them
 * along (through the daemon when it runs, in the store when it does not);
 * removing the contact leaves them, and says so.
 */
describe('contacts: rename and remove, with the rules and forwards that name them', () => {
  after(async () => { await cleanupAll() })

  test('a rename moves them, with or without a daemon; a removal warns of what is left', async () => {
    const [p, bob, carol] = await Promise.all([makeProfile('renamer'), makeProfile('bob'), makeProfile('carol')])
    await ok(p.home, ['contacts', 'add', 'bob', bob.userId])
    await ok(p.home, ['contacts', 'add', 'carol', carol.userId])
    let d = await startDaemon(p.home)
    await ok(p.home, ['rules', 'add', 'deny', 'BOB', 'files'])
    await ok(p.home, ['rules', 'add', 'allow', 'carol', 'files'])
    await ok(p.home, ['forward', '0', 'bob', 'ssh'])

    assert.equal((await ok(p.home, ['contacts', 'rename', 'bob', 'robert'])).stdout, 'renamed bob to robert (1 rule and 1 forward follow)\n')
    assert.deepEqual(await rulesAndForwards(p.home), { rules: ['deny robert files', 'allow carol files'], forwards: ['robert/ssh'] })

    await d.stop()
    assert.equal((await ok(p.home, ['contacts', 'rename', 'robert', 'rob'])).stdout, 'renamed robert to rob (1 rule and 1 forward follow)\n')
    d = await startDaemon(p.home)
    assert.deepEqual(await rulesAndForwards(p.home), { rules: ['deny rob files', 'allow carol files'], forwards: ['rob/ssh'] })

    const removed = await ok(p.home, ['contacts', 'remove', 'rob'])
    assert.equal(removed.stdout, 'removed rob\n')
    assert.equal(removed.stderr, 'cspace: 1 rule and 1 forward still name rob and will apply to whoever you next call rob; see `cspace rules list` and `cspace status`\n')
    const quiet = await ok(p.home, ['contacts', 'rename', 'carol', 'caroline'])
    assert.equal(quiet.stdout, 'renamed carol to caroline (1 rule and 0 forwards follow)\n')
    await d.stop()
    const alone = await makeProfile('nobody-named')
    await ok(alone.home, ['contacts', 'add', 'dave', bob.userId])
    const plain = await ok(alone.home, ['contacts', 'remove', 'dave'])
    assert.equal(plain.stderr, '', 'nothing named dave: no warning')
  })
})
