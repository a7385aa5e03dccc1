import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { cleanupAll, makeProfile, pendingRequests, runCli, spawnCspace, startDaemon, waitOnline, type RunningDaemon } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { once } from 'node:events'
import { locateDaemon } from '../../src/sdk/index.js'

/** Connects to a local port, writes `payload` at once and half-closes; resolves with all that came back when the socket closes. */
async function exchange (port: number, payload: Buffer): Promise<{ received: Buffer }> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const s = connect(port, '127.0.0.1', () => { s.end(payload) })
    s.on('data', (b: Buffer) => chunks.push(b))
    s.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err) })
    s.on('close', () => resolve({ received: Buffer.concat(chunks) }))
  })
}

type Profile = Awaited<ReturnType<typeof makeProfile>>

/**
 * Who may use which service, across real daemons: built-in defaults for
 * contacts and strangers, prompts answered with `cspace requests`, user rules
 * before built-ins, and the caller's identity handed to an --exec service.
 */
describe('permissions and prompts', () => {
  let router: RunningDaemon
  let alice: Profile
  let bob: Profile
  let carol: Profile

  before(async () => {
    router = await startDaemon((await makeProfile('router')).home, ['--router'])
    const boot = ['--bootstrap', router.addresses[0]]
    alice = await makeProfile('alice')
    bob = await makeProfile('bob')
    carol = await makeProfile('carol') // a stranger to bob: bob never added her
    await runCli(alice.home, ['contacts', 'add', 'bob', bob.userId])
    await runCli(carol.home, ['contacts', 'add', 'bob', bob.userId])
    await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])
    for (const svc of ['files', 'chat', 'desktop']) await runCli(bob.home, ['expose', svc, '--exec', 'cat'])
    await runCli(bob.home, ['expose', 'whoami', '--exec', 'printf "%s|%s|%s" "$CSPACE_CALLER_NAME" "$CSPACE_SERVICE" "$CSPACE_CALLER_ID"'])
    // the rules are what is under test: bob's services are plain `cat`s, not the chat and files apps
    await startDaemon(bob.home, [...boot, '--no-apps'])
    await startDaemon(alice.home, boot)
    await startDaemon(carol.home, boot)
    await Promise.all([waitOnline(alice.home, 'bob'), waitOnline(carol.home, 'bob')])
  })

  after(async () => { await cleanupAll() })

  test('a contact may use an ordinary service; an --exec service learns who is calling', async () => {
    const echo = await runCli(alice.home, ['connect', 'bob', 'files'], { input: 'hello files' })
    assert.equal(echo.code, 0, echo.stderr)
    assert.equal(echo.stdout, 'hello files')
    assert.equal(echo.stderr, '', 'nobody was asked')
    const who = await runCli(alice.home, ['connect', 'bob', 'whoami'])
    assert.equal(who.stdout, `alice|whoami|${alice.userId}`)
  })

  test('a stranger is denied ordinary services, with the same answer whether they exist or not', async () => {
    const files = await runCli(carol.home, ['connect', 'bob', 'files'], { input: 'x' })
    const none = await runCli(carol.home, ['connect', 'bob', 'no-such'], { input: 'x' })
    assert.equal(files.code, 1)
    assert.match(files.stderr, /bob did not allow you to use "files"/)
    assert.equal(none.stderr.replace('no-such', 'files'), files.stderr)
  })

  test('a stranger asking for chat waits for bob, who allows it with `cspace requests allow`', async () => {
    const pending = runCli(carol.home, ['connect', 'bob', 'chat'], { input: 'hi bob, it is carol' })
    const req = await waitFor('a pending request on bob', async () => {
      const list = await pendingRequests(bob.home)
      return list.find(r => r.service === 'chat')
    })
    assert.equal(req.caller.contactName, undefined)
    assert.equal(req.caller.userId, carol.userId)
    assert.equal(req.caller.fingerprint, carol.fingerprint)
    const human = await runCli(bob.home, ['requests'])
    assert.match(human.stdout, new RegExp(`${req.id}\\s+stranger \\(${carol.fingerprint}\\) wants chat`))
    const allow = await runCli(bob.home, ['requests', 'allow', req.id])
    assert.equal(allow.code, 0, allow.stderr)
    const r = await pending
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'hi bob, it is carol')
  })

  test('an RSA stranger is shown by user ID and fingerprint, and `requests allow --add-contact` adds them', async () => {
    // an RSA peer ID does not carry its key, as an Ed25519 one does: bob must get it from the TLS certificate
    const dave = await makeProfile('dave', { keyType: 'rsa' })
    await runCli(dave.home, ['contacts', 'add', 'bob', bob.userId])
    await startDaemon(dave.home, ['--bootstrap', router.addresses[0]])
    await waitOnline(dave.home, 'bob')
    const pending = runCli(dave.home, ['connect', 'bob', 'chat'], { input: 'hi bob, it is dave' })
    const req = await waitFor('dave\'s request on bob', async () => (await pendingRequests(bob.home)).find(r => r.service === 'chat'))
    assert.equal(req.caller.userId, dave.userId)
    assert.equal(req.caller.fingerprint, dave.fingerprint)
    const allow = await runCli(bob.home, ['requests', 'allow', req.id, '--add-contact', 'dave'])
    assert.equal(allow.code, 0, allow.stderr)
    const r = await pending
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'hi bob, it is dave')
    const contacts = JSON.parse((await runCli(bob.home, ['contacts', 'list', '--json'])).stdout) as Array<{ name: string, userId: string }>
    assert.equal(contacts.find(c => c.name === 'dave')?.userId, dave.userId)
    assert.equal((await runCli(bob.home, ['contacts', 'remove', 'dave'])).code, 0)
  })

  test('desktop prompts even for contacts; a denial reaches the caller as a clear error', async () => {
    const pending = runCli(alice.home, ['connect', 'bob', 'desktop'], { input: 'x' })
    const req = await waitFor('a desktop request', async () => (await pendingRequests(bob.home))[0])
    assert.equal(req.caller.contactName, 'alice')
    assert.equal((await runCli(bob.home, ['requests', 'deny', req.id])).code, 0)
    const r = await pending
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^cspace: bob is being asked whether to allow "desktop"; waiting for their answer\n/, 'told while waiting')
    assert.match(r.stderr, /bob did not allow you to use "desktop"/)
    const again = await runCli(bob.home, ['requests', 'deny', req.id])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /no pending request/)
  })

  test('a prompt answered after the caller\'s 15 s connect deadline still lets the session through', async () => {
    const pending = runCli(alice.home, ['connect', 'bob', 'desktop'], { input: 'late, but allowed' })
    const req = await waitFor('a desktop request', async () => (await pendingRequests(bob.home))[0])
    // a person may take longer than connecting does: answer only once the
    // caller's connect deadline (SessionManager's connectTimeoutMs, started
    // before the request reached bob) has surely passed
    await new Promise(resolve => setTimeout(resolve, 16_000))
    const allow = await runCli(bob.home, ['requests', 'allow', req.id])
    assert.equal(allow.code, 0, `the request was still pending: ${allow.stderr}`)
    const r = await pending
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'late, but allowed', 'the notice went to stderr, not into the session')
  })

  test('a program that sends much before the answer: the daemon keeps 1 MiB, the rest waits in the program\'s socket, and all of it arrives', async () => {
    const { info, token } = locateDaemon({ home: alice.home })
    const payload = randomBytes(64 * 1024 * 1024)
    const socket = connect(info.appPort, '127.0.0.1')
    socket.on('error', () => {})
    await once(socket, 'connect')
    const received: Buffer[] = []
    socket.on('data', (b: Buffer) => received.push(b))
    socket.write(JSON.stringify({ v: 1, token, op: 'connect', user: 'bob', service: 'desktop', progress: true }) + '\n')
    socket.write(payload)
    const req = await waitFor('a desktop request', async () => (await pendingRequests(bob.home))[0])
    // what the daemon did not take is still queued in this process (the
    // loopback socket's buffers hold a few MiB at most)
    assert.ok(socket.writableLength > 48 * 1024 * 1024, `only ${socket.writableLength} bytes still queued: the daemon read ahead without limit`)
    assert.equal((await runCli(bob.home, ['requests', 'allow', req.id])).code, 0)
    const text = (): string => Buffer.concat(received).subarray(0, 200).toString('latin1')
    await waitFor('the asking event and the OK', () => /"event":"asking"[^\n]*\n[^\n]*"ok":true[^\n]*\n/.test(text()), 20_000, 50)
    const headers = text().split('\n').slice(0, 2).join('\n').length + 1
    await waitFor('every byte echoed', () => Buffer.concat(received).length - headers >= payload.length, 60_000, 100)
    assert.ok(Buffer.concat(received).subarray(headers).equals(payload), 'the bytes sent before the answer, whole and in order')
    socket.destroy()
  })

  test('a caller who gives up while bob is being asked withdraws the question', async () => {
    const caller = spawnCspace(['connect', 'bob', 'desktop'], { home: alice.home, stdin: 'pipe' })
    let stderr = ''
    caller.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
    await waitFor('a desktop request', async () => (await pendingRequests(bob.home))[0])
    await waitFor('the caller told that bob is being asked', () => stderr.includes('is being asked'), 10_000, 20)
    caller.kill('SIGKILL')
    await waitFor('the request gone from bob\'s list', async () => (await pendingRequests(bob.home)).length === 0, 10_000, 200)
  })

  test('a forward sends the first bytes with the request: they wait for the answer, and a refusal closes the socket', async () => {
    const port = Number((await runCli(alice.home, ['forward', '0', 'bob', 'desktop'])).stdout.trim())
    const payload = randomBytes(200_000)
    // the application writes everything at once, long before bob has answered
    const allowed = exchange(port, payload)
    const first = await waitFor('a desktop request', async () => (await pendingRequests(bob.home))[0])
    assert.equal((await runCli(bob.home, ['requests', 'allow', first.id])).code, 0)
    const echoed = await allowed
    assert.equal(echoed.received.length, payload.length)
    assert.ok(echoed.received.equals(payload), 'every early byte reached the service, in order')

    const refused = exchange(port, payload)
    const second = await waitFor('another desktop request', async () => (await pendingRequests(bob.home))[0])
    assert.notEqual(second.id, first.id)
    assert.equal((await runCli(bob.home, ['requests', 'deny', second.id])).code, 0)
    const r = await refused
    assert.equal(r.received.length, 0, 'nothing comes back from a refused service')
    const status = JSON.parse((await runCli(alice.home, ['status', '--json'])).stdout)
    assert.match(JSON.stringify(status), /did not allow you to use \\"desktop\\"/, 'the refusal is recorded on the forward')
  })

  test('user rules come before the built-ins, and removing one restores the default', async () => {
    const add = await runCli(bob.home, ['rules', 'add', 'deny', 'alice', 'files'])
    assert.equal(add.code, 0, add.stderr)
    const id = add.stdout.split('\t')[0]
    const denied = await runCli(alice.home, ['connect', 'bob', 'files'], { input: 'x' })
    assert.match(denied.stderr, /did not allow/)
    await runCli(bob.home, ['rules', 'add', 'allow', 'anyone', 'files'])
    const strangerNow = await runCli(carol.home, ['connect', 'bob', 'files'], { input: 'carol may' })
    assert.equal(strangerNow.stdout, 'carol may')
    assert.equal((await runCli(bob.home, ['rules', 'remove', id])).code, 0)
    const allowed = await runCli(alice.home, ['connect', 'bob', 'files'], { input: 'back' })
    assert.equal(allowed.stdout, 'back')
    const bad = await runCli(bob.home, ['rules', 'add', 'perhaps', 'alice', 'files'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid rule: action "perhaps"/)
  })

  test('a contact removed or renamed is judged as they are now, also on a stream opened before', async () => {
    // a warm connect: alice's daemon opens its next connect's streams to bob
    // right after this one's reply, while alice is still bob's contact
    const before = await runCli(alice.home, ['connect', 'bob', 'whoami'])
    assert.equal(before.stdout, `alice|whoami|${alice.userId}`)
    assert.equal((await runCli(bob.home, ['contacts', 'remove', 'alice'])).code, 0)
    const stranger = await runCli(alice.home, ['connect', 'bob', 'whoami'], { input: 'x' })
    assert.equal(stranger.code, 1, 'a stranger may not use whoami')
    assert.match(stranger.stderr, /bob did not allow you to use "whoami"/)
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'alicia', alice.userId])).code, 0)
    const renamed = await runCli(alice.home, ['connect', 'bob', 'whoami'])
    assert.equal(renamed.code, 0, renamed.stderr)
    assert.equal(renamed.stdout, `alicia|whoami|${alice.userId}`)
  })

  test('a yes to a caller removed from the contacts while bob was being asked does not let them through', async () => {
    const pending = runCli(alice.home, ['connect', 'bob', 'desktop'], { input: 'x' })
    const req = await waitFor('a desktop request', async () => (await pendingRequests(bob.home))[0])
    assert.equal(req.caller.contactName, 'alicia')
    assert.equal((await runCli(bob.home, ['contacts', 'remove', 'alicia'])).code, 0)
    assert.equal((await runCli(bob.home, ['requests', 'allow', req.id])).code, 0)
    const r = await pending
    assert.equal(r.code, 1, 'strangers may not ask for desktop: the removal wins')
    assert.match(r.stderr, /bob did not allow you to use "desktop"/)
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])).code, 0)
  })

  test('a contact asking for a service bob would be asked about, but offers none by that name, is told so at once', async () => {
    const rule = await runCli(bob.home, ['rules', 'add', 'prompt', 'alice', 'slides'])
    assert.equal(rule.code, 0, rule.stderr)
    const r = await runCli(alice.home, ['connect', 'bob', 'slides'], { input: 'x' })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /bob has no service "slides"/)
    assert.doesNotMatch(r.stderr, /being asked/, 'nobody was asked')
    assert.equal((await pendingRequests(bob.home)).length, 0)
    assert.equal((await runCli(bob.home, ['rules', 'remove', rule.stdout.split('\t')[0]])).code, 0)
  })

  test('a yes is for the caller as bob was asked about them: one removed meanwhile is refused, even for a service strangers may ask for', async () => {
    const rule = await runCli(bob.home, ['rules', 'add', 'prompt', 'alice', 'chat'])
    assert.equal(rule.code, 0, rule.stderr)
    const pending = runCli(alice.home, ['connect', 'bob', 'chat'], { input: 'x' })
    const req = await waitFor('a chat request', async () => (await pendingRequests(bob.home))[0])
    assert.equal(req.caller.contactName, 'alice')
    assert.equal((await runCli(bob.home, ['contacts', 'remove', 'alice'])).code, 0)
    // a stranger may ask for chat; but bob's yes was to his contact alice, who is gone
    assert.equal((await runCli(bob.home, ['requests', 'allow', req.id])).code, 0)
    const r = await pending
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr, /bob did not allow you to use "chat"/)
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])).code, 0)
    assert.equal((await runCli(bob.home, ['rules', 'remove', rule.stdout.split('\t')[0]])).code, 0)
  })

  /** `cspace connect bob files` (a `cat`) on alice's side, open, its first line echoed. */
  async function openFilesSession (): Promise<{ out: () => string, write: (s: string) => void, exitWithin: (ms: number) => Promise<number | null | 'running'> }> {
    const child = spawnCspace(['connect', 'bob', 'files'], { home: alice.home, stdin: 'pipe' })
    let out = ''
    child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.stdin?.write('one\n')
    await waitFor('the echo of the first line', () => out === 'one\n')
    return {
      out: () => out,
      write: (s) => { child.stdin?.write(s) },
      exitWithin: async (ms) => await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms))])
    }
  }

  test('a rule added to deny a session already open ends it; removing the rule lets a new one in', async () => {
    const session = await openFilesSession()
    const chatDeny = await runCli(bob.home, ['rules', 'add', 'deny', 'alice', 'chat'])
    assert.equal(chatDeny.code, 0, chatDeny.stderr)
    session.write('two\n')
    await waitFor('the echo of the second line: a rule for another service leaves it open', () => session.out() === 'one\ntwo\n')
    // first, before the rules earlier tests left (one allows anyone files): the first match wins
    const deny = await runCli(bob.home, ['rules', 'add', 'deny', 'alice', 'files', '--position', '0'])
    assert.equal(deny.code, 0, deny.stderr)
    assert.notEqual(await session.exitWithin(20_000), 'running', 'alice\'s session was ended')
    for (const r of [deny, chatDeny]) assert.equal((await runCli(bob.home, ['rules', 'remove', r.stdout.split('\t')[0]])).code, 0)
    const again = await runCli(alice.home, ['connect', 'bob', 'files'], { input: 'back' })
    assert.equal(again.stdout, 'back')
  })

  test('removing a contact ends the sessions they have open: what they opened as a contact does not outlive it', async () => {
    const session = await openFilesSession()
    assert.equal((await runCli(bob.home, ['contacts', 'remove', 'alice'])).code, 0)
    assert.notEqual(await session.exitWithin(20_000), 'running', 'alice\'s session was ended')
    assert.equal(session.out(), 'one\n')
    assert.equal((await runCli(bob.home, ['contacts', 'add', 'alice', alice.userId])).code, 0)
    const again = await runCli(alice.home, ['connect', 'bob', 'files'], { input: 'back' })
    assert.equal(again.stdout, 'back', 'a contact again, she may open a new one')
  })
})
