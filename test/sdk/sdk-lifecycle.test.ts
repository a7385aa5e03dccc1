import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import type { Duplex } from 'node:stream'
import { connect, listen, LocalApiClient } from '../../src/sdk/index.js'
import { cleanupAll, makeProfile, runCli, startDaemon, waitOnline, type RunningDaemon } from '../helpers/cli.js'
import { freePort } from '../helpers/sshd.js'

/** The SDK across its daemon's stop and restart, as a long-running program meets them. */
describe('sdk: the daemon stops and starts again under a program', () => {
  let alice: Awaited<ReturnType<typeof makeProfile>>
  let bob: Awaited<ReturnType<typeof makeProfile>>
  let routerAddr: string
  let bobDaemon: RunningDaemon

  before(async () => {
    const router = await startDaemon((await makeProfile('router')).home, ['--router'])
    routerAddr = router.addresses[0]
    alice = await makeProfile('alice')
    bob = await makeProfile('bob')
    await runCli(alice.home, ['contacts', 'add', 'bob', bob.userId])
    await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])
    bobDaemon = await startDaemon(bob.home, ['--no-apps', '--bootstrap', routerAddr])
    await startDaemon(alice.home, ['--no-apps', '--bootstrap', routerAddr])
    await waitOnline(alice.home, 'bob')
  })

  after(async () => { await cleanupAll() })

  test('stopping the daemon under a listener and an open session: it exits cleanly at once, the listener\'s `closed` resolves, the session ends', async () => {
    const sessions: Duplex[] = []
    const listener = await listen('hold', (socket) => { sessions.push(socket); socket.resume() }, { home: bob.home })
    const held = await connect('bob', 'hold', { home: alice.home })
    held.write('still here')
    held.resume()
    const sessionEnded = new Promise<void>(resolve => { held.once('close', () => resolve()) })

    assert.equal(await bobDaemon.stop(), 0, `a clean stop, not the 20 s deadline's exit 1: ${bobDaemon.stderr().split('\n').filter(l => /did not finish|stop failed/.test(l)).join(' ')}`)
    await listener.closed
    await sessionEnded
    assert.equal(sessions.length, 1)
  })

  test('after a restart: a LocalApiClient made before it still works; while no daemon answers, connect says the daemon is not running', async () => {
    bobDaemon = await startDaemon(bob.home, ['--no-apps', '--bootstrap', routerAddr])
    const api = new LocalApiClient({ home: bob.home })
    assert.equal((await api.get<{ user: { userId: string } }>('/v1/status')).user.userId, bob.userId)
    assert.equal(await bobDaemon.stop(), 0)
    bobDaemon = await startDaemon(bob.home, ['--no-apps', '--bootstrap', routerAddr])
    assert.equal((await api.get<{ user: { userId: string } }>('/v1/status')).user.userId, bob.userId, 'the restarted daemon, at its new port and token')

    // the window while a daemon stops: daemon.json still names a live process, its port no longer answers
    const stopping = await makeProfile('stopping')
    writeFileSync(join(stopping.home, 'daemon.json'), JSON.stringify({ v: 1, pid: process.pid, apiPort: await freePort(), appPort: await freePort() }))
    writeFileSync(join(stopping.home, 'api-token'), 'x'.repeat(43) + '\n', { mode: 0o600 })
    await assert.rejects(connect('bob', 'hold', { home: stopping.home }), (err: Error & { code?: string }) => err.code === 'DAEMON_NOT_RUNNING' && /no daemon is running/.test(err.message))
    await assert.rejects(listen('hold', () => {}, { home: stopping.home }), (err: Error & { code?: string }) => err.code === 'DAEMON_NOT_RUNNING')
  })

  test('a listen handler that throws, in a program: the caller\'s session is reset at once, not left waiting; the program fails with the error', async () => {
    const sdk = new URL('../../src/sdk/index.js', import.meta.url).href
    const program = spawn(process.execPath, ['--input-type=module', '-e', `
      import { listen } from '${sdk}'
      await listen('throws', () => { throw new Error('the handler failed') }, { home: process.env.HOME_DIR })
      console.log('listening')
    `], { env: { ...process.env, HOME_DIR: bob.home }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    program.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    const exited = once(program, 'exit')
    try {
      await once(program.stdout, 'data')
      const s = await connect('bob', 'throws', { home: alice.home })
      const reset = new Promise<string | undefined>(resolve => { s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code)) })
      s.resume()
      assert.equal(await reset, 'ECONNRESET')
      const [code] = await exited
      assert.notEqual(code, 0)
      assert.match(stderr, /the handler failed/)
    } finally {
      program.kill()
    }
  })
})
