import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ControlClient } from '../../../src/apps/host/index.js'
import { connect } from '../../../src/sdk/index.js'
import { DEFAULT_CHUNK, FrameType, MAX_CONTROL_BYTES, MAX_ENTRIES, encodeControl, encodeDataHeader, encodeFrame, readFrames, type TransferView } from '../../../src/apps/files/index.js'
import { cleanupAll, runCli, spawnCspace, startDaemon, startTwoUsers, type Profile, type RunningDaemon } from '../../helpers/cli.js'
import { sha256File, tempDir, writeRandomFile } from '../../helpers/files.js'
import { waitFor } from '../../helpers/wait.js'
import { framesFor, rawSession, type Reply } from './helpers.js'
import { MAX_ARRIVING_OFFER_BYTES, MAX_WAITING_OFFERS_PER_SENDER } from '../../../src/apps/files/receiver.js'

const MiB = 1024 * 1024

/** File transfer between two real daemons: alice sends, bob's daemon receives. */
describe('files: send and receive across daemons', () => {
  let alice: Profile
  let bob: Profile
  let aliceD: RunningDaemon
  let bobD: RunningDaemon
  let boot: string[]
  let downloads: string
  const src = tempDir('cspace-files-src-')

  async function cli (home: string, args: string[]): Promise<string> {
    const r = await runCli(home, args)
    assert.equal(r.code, 0, `cspace ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  const transfers = async (): Promise<TransferView[]> => JSON.parse(await cli(bob.home, ['transfers', '--json'])) as TransferView[]
  const autoAccept = async (on: boolean): Promise<void> => { await cli(bob.home, on ? ['receive', '--accept-from', 'alice'] : ['transfers', 'config', '--ask', 'alice']) }
  const useDownloads = async (dir: string): Promise<void> => { await cli(bob.home, ['transfers', 'config', '--downloads', dir]) }
  const visible = (dir: string): string[] => readdirSync(dir).filter(n => !n.startsWith('.')).sort()
  /** Bob's bytes received, from the first progress event (control subscribed) reporting at least `bytes`. */
  const received = async (control: ControlClient, bytes: number): Promise<number> => await new Promise((resolve) => control.onEvent((event, data) => {
    const n = (data as { receivedBytes?: number }).receivedBytes ?? 0
    if (event === 'progress' && n >= bytes) resolve(n)
  }))

  before(async () => {
    ;({ boot, alice, bob, aliceD, bobD } = await startTwoUsers())
    downloads = tempDir('cspace-files-dl-')
    await waitFor('bob\'s files host', async () => (await runCli(bob.home, ['transfers', 'config', '--downloads', downloads])).code === 0, 20_000, 200)
  })

  after(async () => { await cleanupAll() })

  test('a directory tree and a file, auto-accepted, arrive intact', async () => {
    await autoAccept(true)
    const tree = join(src, 'album')
    mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true })
    const sums: Record<string, string> = {
      'album/a.bin': writeRandomFile(join(tree, 'a.bin'), 3 * MiB + 17),
      'album/sub/b.bin': writeRandomFile(join(tree, 'sub', 'b.bin'), 1000),
      'album/sub/deeper/empty': writeRandomFile(join(tree, 'sub', 'deeper', 'empty'), 0),
      'single.bin': writeRandomFile(join(src, 'single.bin'), 2 * MiB)
    }
    const r = await runCli(alice.home, ['send', 'bob', tree, join(src, 'single.bin'), '--json'])
    assert.equal(r.code, 0, r.stderr)
    const events = r.stdout.trim().split('\n').map(l => JSON.parse(l) as { event: string, saved?: string[] })
    assert.ok(events.some(e => e.event === 'progress'))
    assert.deepEqual(events.at(-1)?.saved, ['album', 'single.bin'])
    for (const [rel, sum] of Object.entries(sums)) assert.equal(await sha256File(join(downloads, rel)), sum, rel)
    const t = (await transfers()).find(x => x.paths.includes('single.bin'))
    assert.equal(t?.state, 'complete')
    assert.equal(existsSync(join(downloads, '.cspace-partial', t.id)), false)
  })

  test('without auto-accept an offer waits: declined, then accepted with `cspace receive`', async () => {
    await autoAccept(false)
    writeRandomFile(join(src, 'ask.bin'), 100_000)
    const sender = spawnCspace(['send', 'bob', join(src, 'ask.bin')], { home: alice.home })
    const exited = once(sender, 'exit') as Promise<[number]>
    let stderr = ''
    sender.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
    const offer = await waitFor('a pending offer', async () => (await transfers()).find(t => t.state === 'pending'))
    assert.equal(offer.from, 'alice')
    await cli(bob.home, ['transfers', 'decline', offer.id.slice(0, 6)])
    const [code] = await exited
    assert.equal(code, 1)
    assert.match(stderr, /bob declined the files/)
    assert.equal(existsSync(join(downloads, 'ask.bin')), false)

    const sum = writeRandomFile(join(src, 'ask2.bin'), 200_000)
    const receiving = runCli(bob.home, ['receive'])
    const sent = runCli(alice.home, ['send', 'bob', join(src, 'ask2.bin')])
    const [rx, tx] = await Promise.all([receiving, sent])
    assert.equal(tx.code, 0, tx.stderr)
    assert.equal(rx.code, 0, rx.stderr)
    // where it went, not only its name
    assert.ok(rx.stdout.includes(`received from alice: ask2.bin in ${downloads}\n`), rx.stdout)
    // ("waiting for an offer…" first, unless alice's offer was in before `receive` looked)
    assert.match(rx.stderr, /^(waiting for an offer…\n)?accepted [0-9a-f]{8} from alice; it comes in as alice sends it/, 'it says what it waits for')
    assert.equal(await sha256File(join(downloads, 'ask2.bin')), sum)
  })

  test('`cspace receive` following a transfer that another terminal removes says so and exits 1; one cleared once complete counts as received', async () => {
    await autoAccept(false)
    const frames = framesFor([{ path: 'removed.bin', data: randomBytes(3 * 65536) }])
    const done = framesFor([{ path: 'cleared.bin', data: randomBytes(1000) }])
    // hand-written senders: the offers; then all of one, and one chunk of the other, the connection left open
    const socket = await connect('bob', 'files', { home: alice.home })
    const socket2 = await connect('bob', 'files', { home: alice.home })
    socket.on('error', () => {})
    socket2.on('error', () => {})
    try {
      socket.write(frames[0])
      socket2.write(done[0])
      const offers = await waitFor('alice\'s offers waiting', async () => {
        const pending = (await transfers()).filter(t => t.state === 'pending' && ['removed.bin', 'cleared.bin'].includes(t.paths[0]))
        return pending.length === 2 ? pending : undefined
      })
      const offer = offers.find(t => t.paths[0] === 'removed.bin')!
      const cleared = offers.find(t => t.paths[0] === 'cleared.bin')!
      const receiving = spawnCspace(['receive'], { home: bob.home })
      let stdout = ''
      let stderr = ''
      receiving.stdout?.on('data', (b: Buffer) => { stdout += b.toString() })
      receiving.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
      const exited = once(receiving, 'exit') as Promise<[number | null]>
      await waitFor('`cspace receive` accepted both', async () => (stderr.match(/^accepted /gm) ?? []).length >= 2 ? true : undefined)
      socket2.write(Buffer.concat(done.slice(1)))
      await waitFor('cleared.bin complete', async () => (await transfers()).find(t => t.id === cleared.id)?.state === 'complete')
      await cli(bob.home, ['transfers', 'remove', cleared.id]) // as the page's Clear does
      socket.write(Buffer.concat([frames[1], frames[2]]))
      await waitFor('one chunk at bob', async () => ((await transfers()).find(t => t.id === offer.id)?.receivedBytes ?? 0) >= 65536)
      assert.equal(receiving.exitCode, null, `still following: ${stdout}`)
      await cli(bob.home, ['transfers', 'remove', offer.id])
      const deadline = setTimeout(() => receiving.kill('SIGKILL'), 30_000)
      const [code] = await exited
      clearTimeout(deadline)
      assert.equal(code, 1, `${stdout}${stderr}`)
      assert.match(stdout, new RegExp(`^${offer.id} removed elsewhere \\(\`cspace transfers remove\` or the web page\\); what had arrived is deleted$`, 'm'))
      assert.ok(stdout.includes(`received from alice: cleared.bin in ${downloads}\n`), stdout)
      assert.doesNotMatch(stdout, new RegExp(`${cleared.id} removed`))
      assert.equal(existsSync(join(downloads, '.cspace-partial', offer.id)), false)
    } finally {
      socket.destroy()
      socket2.destroy()
    }
  })

  test('auto-accept from a name that is not a contact is refused, not stored', async () => {
    const r = await runCli(bob.home, ['receive', '--accept-from', 'nobdoy'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^cspace: no contact named "nobdoy"/)
    const settings = JSON.parse(await cli(bob.home, ['transfers', 'config', '--json'])) as { acceptFrom: string[] }
    assert.ok(!settings.acceptFrom.includes('nobdoy'), JSON.stringify(settings))
  })

  test('a downloads directory that cannot take files is refused when it is set', async () => {
    const before = JSON.parse(await cli(bob.home, ['transfers', 'config', '--json'])) as { downloads: string }
    for (const dir of ['/proc/nope', '/dev/null/x']) {
      const r = await runCli(bob.home, ['transfers', 'config', '--downloads', dir])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, new RegExp(`^cspace: cannot save downloads in ${dir} \\([A-Z]+\\); pick a directory you can write to\n$`))
    }
    const after = JSON.parse(await cli(bob.home, ['transfers', 'config', '--json'])) as { downloads: string }
    assert.equal(after.downloads, before.downloads, 'the setting is unchanged')
  })

  test('a name already taken is numbered, never overwritten', async () => {
    await autoAccept(true)
    const dir1 = join(src, 'v1'); const dir2 = join(src, 'v2')
    mkdirSync(dir1); mkdirSync(dir2)
    const first = writeRandomFile(join(dir1, 'report.pdf'), 5000)
    const second = writeRandomFile(join(dir2, 'report.pdf'), 6000)
    assert.equal((await runCli(alice.home, ['send', 'bob', join(dir1, 'report.pdf')])).code, 0)
    const r = await runCli(alice.home, ['send', 'bob', join(dir2, 'report.pdf')])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /report \(1\)\.pdf/)
    assert.equal(await sha256File(join(downloads, 'report.pdf')), first)
    assert.equal(await sha256File(join(downloads, 'report (1).pdf')), second)
  })

  test('the same file sent again after bob deleted it arrives again; while he still has it, it is not sent twice', async () => {
    await autoAccept(true)
    const file = join(src, 'notes.txt')
    const sum = writeRandomFile(file, 4000)
    assert.equal((await runCli(alice.home, ['send', 'bob', file])).code, 0)
    assert.equal(await sha256File(join(downloads, 'notes.txt')), sum)
    const again = await runCli(alice.home, ['send', 'bob', file])
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(visible(downloads).filter(n => n.startsWith('notes')), ['notes.txt'], 'already there: no second copy')
    unlinkSync(join(downloads, 'notes.txt'))
    const resent = await runCli(alice.home, ['send', 'bob', file])
    assert.equal(resent.code, 0, resent.stderr)
    assert.equal(await sha256File(join(downloads, 'notes.txt')), sum, 'delivered again, not "already done"')
  })

  test('two `cspace send`s of the same files share one transfer, which goes on while either runs', async () => {
    await autoAccept(false)
    const file = join(src, 'twice.bin')
    const sum = writeRandomFile(file, 3 * MiB)
    const output = (child: ChildProcess): { out: string, err: string } => {
      const o = { out: '', err: '' }
      child.stdout?.on('data', (b: Buffer) => { o.out += b.toString() })
      child.stderr?.on('data', (b: Buffer) => { o.err += b.toString() })
      return o
    }
    const first = spawnCspace(['send', 'bob', file, '--json'], { home: alice.home })
    const firstSaid = output(first)
    const firstExit = once(first, 'exit') as Promise<[number | null]>
    const offer = await waitFor('the offer', async () => (await transfers()).find(t => t.paths[0] === 'twice.bin' && t.state === 'pending'))
    const second = spawnCspace(['send', 'bob', file, '--json'], { home: alice.home })
    const secondSaid = output(second)
    const secondExit = once(second, 'exit') as Promise<[number | null]>
    await waitFor('the second send following the first', () => secondSaid.out.includes('"waiting"') && secondSaid.out.endsWith('\n'))
    const events = secondSaid.out.trim().split('\n').map(l => JSON.parse(l) as { event: string, id?: string })
    assert.deepEqual(events.map(e => e.event), ['attached', 'offer', 'waiting'], 'told it follows, then what the transfer said so far')
    assert.ok(events.every(e => e.id === offer.id), secondSaid.out)
    // the first command ends; the second still wants the files, so the transfer goes on
    first.kill('SIGINT')
    assert.equal((await firstExit)[0], 130)
    assert.equal(second.exitCode, null, `the second send still runs: ${secondSaid.err}`)
    await cli(bob.home, ['transfers', 'accept', offer.id.slice(0, 8)])
    assert.equal((await secondExit)[0], 0, secondSaid.err)
    for (const said of [firstSaid.out, secondSaid.out]) assert.doesNotMatch(said, /"reconnecting"/, 'neither send took the other\'s connection')
    assert.equal(await sha256File(join(downloads, 'twice.bin')), sum)
    const t = (await transfers()).find(x => x.id === offer.id)
    assert.equal(t?.state, 'complete')
    assert.equal(t?.duplicateBytes, 0)
  })

  test('a second connection for files already arriving is told BUSY; the first goes on', async () => {
    await autoAccept(true)
    const frames = framesFor([{ path: 'busy.bin', data: randomBytes(4 * 65536) }])
    const socket = await connect('bob', 'files', { home: alice.home })
    socket.on('error', () => {})
    const replies = readFrames(socket, { chunkSize: () => 0 })
    const next = async (): Promise<{ type: number, body: Record<string, unknown> }> => {
      const f = await replies.next()
      assert.equal(f.done, false, 'the receiver closed the first connection')
      return { type: f.value!.type, body: JSON.parse(f.value!.payload.toString('utf8')) as Record<string, unknown> }
    }
    socket.write(frames[0])
    assert.equal((await next()).body.state, 'accepted')
    socket.write(Buffer.concat(frames.slice(1, 5))) // two of the four chunks
    await waitFor('two chunks at bob', async () => ((await transfers()).find(t => t.paths[0] === 'busy.bin')?.receivedBytes ?? 0) >= 2 * 65536)
    socket.write(Buffer.concat(frames.slice(5, 7))) // the third, just before the second sender's offer
    const second = await rawSession(alice.home, 'bob', [frames[0]], { endAfter: true })
    assert.deepEqual(second.map(r => r.body.code ?? r.body.state), ['BUSY'], JSON.stringify(second))
    socket.write(Buffer.concat(frames.slice(7)))
    const done = await next()
    assert.equal(done.type, FrameType.DONE, JSON.stringify(done))
    socket.destroy()
    assert.equal((await transfers()).find(t => t.paths[0] === 'busy.bin')?.state, 'complete')
  })

  test('hostile names from a hand-written sender land inside the downloads directory', async () => {
    const dl = tempDir('cspace-files-hostile-')
    await useDownloads(join(dl, 'in'))
    const files = ['../../x', '/etc/passwd', 'nul\u0000byte', 'CON', 'a/../../../b/c'].map(path => ({ path, data: randomBytes(100) }))
    const replies = await rawSession(alice.home, 'bob', framesFor(files))
    const done = replies.find(r => r.type === FrameType.DONE)
    assert.ok(done, JSON.stringify(replies))
    assert.deepEqual(visible(join(dl, 'in')), ['_CON', 'a', 'etc', 'nul_byte', 'x'])
    assert.deepEqual(readdirSync(dl), ['in'])
    assert.deepEqual(readFileSync(join(dl, 'in', 'etc', 'passwd')), files[1].data)
    assert.deepEqual(readFileSync(join(dl, 'in', 'a', 'b', 'c')), files[4].data)
    await useDownloads(downloads)
  })

  test(`an offer of ${MAX_ENTRIES.toLocaleString('en')} files side by side arrives whole; a file ended twice is refused`, async () => {
    await autoAccept(true)
    const dl = tempDir('cspace-files-many-')
    await useDownloads(dl)
    try {
      // empty files, each its own top-level name: saving them once asked every path about every name (20 s)
      const files = Array.from({ length: MAX_ENTRIES }, (_, i) => ({ path: `m${i}`, data: Buffer.alloc(0) }))
      const replies = await rawSession(alice.home, 'bob', framesFor(files))
      const done = replies.find(r => r.type === FrameType.DONE)
      assert.ok(done, JSON.stringify(replies.slice(0, 3)))
      assert.equal((done.body.saved as string[]).length, MAX_ENTRIES)
      assert.equal(readdirSync(dl).filter(n => /^m\d+$/.test(n)).length, MAX_ENTRIES)

      const two = framesFor([{ path: 'twice/a', data: randomBytes(1000) }, { path: 'twice/b', data: randomBytes(1000) }])
      // offer, a's chunk, a's end — and a's end again
      const again = await rawSession(alice.home, 'bob', [two[0], two[1], two[2], two[3], two[3]])
      const err = again.find(r => r.type === FrameType.ERROR)
      assert.equal(err?.body.code, 'BAD_FRAME', JSON.stringify(again))
      assert.match(String(err?.body.message), /twice\/a was ended twice/)
      // the sender may start over: nothing was lost
      const redo = await rawSession(alice.home, 'bob', two)
      assert.equal(redo.at(-1)?.type, FrameType.DONE, JSON.stringify(redo))
      assert.deepEqual(readdirSync(join(dl, 'twice')).sort(), ['a', 'b'])
    } finally {
      await useDownloads(downloads)
      rmSync(dl, { recursive: true, force: true })
    }
  })

  test('a thousand small files through `cspace send` arrive intact (chunk buffers are reused by bytes, not by count)', async () => {
    await autoAccept(true)
    const dl = tempDir('cspace-files-small-')
    await useDownloads(dl)
    const dir = tempDir('cspace-files-small-src-')
    try {
      // a 2 kB chunk each: a ring of six chunk buffers was read into again while
      // the socket still held the earlier bytes, and bob refused a chunk
      const sums = new Map<string, string>()
      for (let i = 0; i < 1000; i++) sums.set(`s${i}.bin`, writeRandomFile(join(dir, `s${i}.bin`), 2000))
      const r = await runCli(alice.home, ['send', 'bob', ...[...sums.keys()].map(n => join(dir, n))], { timeoutMs: 120_000 })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^sent to bob: s0\.bin, s1\.bin, s2\.bin, s3\.bin, s4\.bin and 995 more\n$/, 'a line, not a thousand names')
      for (const [name, sum] of sums) assert.equal(await sha256File(join(dl, name)), sum, name)
      const listed = (await cli(bob.home, ['transfers'])).split('\n').find(l => l.includes('1000 files'))
      assert.ok(listed?.endsWith(` and 995 more in ${dl}`), listed)
    } finally {
      await useDownloads(downloads)
      rmSync(dl, { recursive: true, force: true })
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('more paths than one send takes: a usage error that says to send their directory', async () => {
    const r = await runCli(alice.home, ['send', 'bob', ...Array.from({ length: 1001 }, (_, i) => join(src, `p${i}`))])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /at most 1000 paths at once \(1001 given\); send the directory that holds them instead/)
  })

  test('a chunk that does not match its SHA-256 is refused and not stored', async () => {
    const data = randomBytes(200_000)
    const [offer] = framesFor([{ path: 'corrupt.bin', data }])
    const wrongHash = Buffer.alloc(32, 7)
    const replies = await rawSession(alice.home, 'bob', [offer, encodeDataHeader(0, 0, wrongHash, 65536), data.subarray(0, 65536)])
    const err = replies.find(r => r.type === FrameType.ERROR)
    assert.equal(err?.body.code, 'CHUNK_CORRUPT')
    const t = (await transfers()).find(x => x.paths[0] === 'corrupt.bin')
    assert.equal(t?.receivedBytes, 0)
    assert.equal(existsSync(join(downloads, 'corrupt.bin')), false)
    // a right chunk list with a wrong file digest is refused too
    const all = framesFor([{ path: 'digest.bin', data }])
    all[all.length - 1] = encodeControl(FrameType.FILE_END, { file: 0, digest: '0'.repeat(64) })
    const r2 = await rawSession(alice.home, 'bob', all)
    assert.equal(r2.find(r => r.type === FrameType.ERROR)?.body.code, 'FILE_MISMATCH')
    assert.equal(existsSync(join(downloads, 'digest.bin')), false)
  })

  test('malformed and oversized frames get an error frame; the host keeps serving', async () => {
    const code = async (frames: Buffer[]): Promise<unknown> => (await rawSession(alice.home, 'bob', frames)).find(r => r.type === FrameType.ERROR)?.body.code
    assert.equal(await code([Buffer.from([FrameType.OFFER, 0xff, 0xff, 0xff, 0xff])]), 'FRAME_TOO_LARGE')
    assert.equal(await code([Buffer.from([42, 0, 0, 0, 1, 0])]), 'BAD_FRAME')
    assert.equal(await code([encodeFrame(FrameType.OFFER, Buffer.from('{not json'))]), 'BAD_FRAME')
    assert.equal(await code([encodeFrame(FrameType.OFFER, Buffer.from([0xff, 0xfe]))]), 'BAD_FRAME')
    assert.equal(await code([encodeControl(FrameType.OFFER, { v: 9, chunkSize: 65536, files: [] })]), 'UNSUPPORTED_VERSION')
    assert.equal(await code([encodeControl(FrameType.OFFER, { v: 1, chunkSize: 65536, files: [{ path: '..', size: 1, mtime: 0 }] })]), 'BAD_MANIFEST')
    assert.equal(await code([encodeFrame(FrameType.DATA, Buffer.alloc(50))]), 'BAD_FRAME')
    const [offer] = framesFor([{ path: 'oversized-chunk.bin', data: randomBytes(10) }])
    const big = Buffer.alloc(5); big.writeUInt8(FrameType.DATA, 0); big.writeUInt32BE(40 + 65536 + 1, 1)
    assert.equal(await code([offer, big]), 'FRAME_TOO_LARGE')
    assert.equal(await code([offer, encodeDataHeader(3, 0, Buffer.alloc(32), 10), randomBytes(10)]), 'BAD_CHUNK')
    const sum = writeRandomFile(join(src, 'after-bad.bin'), 1000)
    assert.equal((await runCli(alice.home, ['send', 'bob', join(src, 'after-bad.bin')])).code, 0)
    assert.equal(await sha256File(join(downloads, 'after-bad.bin')), sum)
  })

  test('a sender that goes quiet mid-transfer is told IDLE after bob\'s idle timeout; what arrived is kept and a re-send resumes', async () => {
    await autoAccept(true)
    assert.match(await cli(bob.home, ['transfers', 'config', '--idle-timeout', '2']), /idle timeout: 2 s/)
    for (const bad of ['0', 'abc', '86401']) {
      const r = await runCli(bob.home, ['transfers', 'config', '--idle-timeout', bad])
      assert.notEqual(r.code, 0, bad)
      assert.match(r.stderr, /--idle-timeout/, bad)
    }
    const data = randomBytes(3 * 65536)
    const frames = framesFor([{ path: 'quiet.bin', data }]) // offer, 3 × (header, bytes), file end
    const socket = await connect('bob', 'files', { home: alice.home })
    socket.on('error', () => {})
    const replies = readFrames(socket, { chunkSize: () => 0 })
    socket.write(frames[0])
    const accepted = await replies.next()
    assert.equal(JSON.parse(accepted.value!.payload.toString('utf8')).state, 'accepted')
    // one whole chunk and half of the next, then nothing, the connection left open
    socket.write(Buffer.concat([frames[1], frames[2], frames[3], frames[4].subarray(0, 30_000)]))
    // a deadline, so that no timeout at bob fails here instead of hanging
    const told = await Promise.race([replies.next(), new Promise<never>((_resolve, reject) => { setTimeout(() => { reject(new Error('bob said nothing within 30 s')) }, 30_000).unref() })])
    assert.equal(told.value?.type, FrameType.ERROR)
    assert.equal(JSON.parse(told.value!.payload.toString('utf8')).code, 'IDLE')
    socket.destroy()
    const t = (await transfers()).find(x => x.paths[0] === 'quiet.bin')
    assert.equal(t?.state, 'accepted', 'not recorded as failed: it resumes')
    assert.equal(t?.receivedBytes, 65536)
    const again = await rawSession(alice.home, 'bob', frames)
    assert.equal(again.at(-1)?.type, FrameType.DONE, JSON.stringify(again))
    assert.deepEqual(readFileSync(join(downloads, 'quiet.bin')), data)
    await cli(bob.home, ['transfers', 'config', '--idle-timeout', '120'])
  })

  test('connections racing with the same offer are taken one at a time: the latest goes on alone and completes', async () => {
    await autoAccept(true)
    const data = randomBytes(8 * 65536)
    const frames = framesFor([{ path: 'race.bin', data }])
    const sockets = await Promise.all([0, 1, 2, 3].map(async () => await connect('bob', 'files', { home: alice.home })))
    /** What bob says on each connection, read to its end. */
    const answers = sockets.map((socket) => {
      socket.on('error', () => {})
      const answer = { socket, states: [] as string[], ended: false }
      void (async () => {
        try {
          for await (const frame of readFrames(socket, { chunkSize: () => 0 })) {
            const body = JSON.parse(frame.payload.toString('utf8')) as { state?: string, code?: string }
            answer.states.push(frame.type === FrameType.DONE ? 'done' : body.state ?? body.code ?? '?')
          }
        } catch {}
        answer.ended = true
      })()
      return answer
    })
    for (const { socket } of answers) socket.write(frames[0])
    // one dropped for a later connection may have been told it was accepted first; bob then closes it
    const open = (): typeof answers => answers.filter(a => a.states.includes('accepted') && !a.ended)
    await waitFor('each connection accepted or closed, and a single accepted one left open', () => answers.every(a => a.ended || a.states.length > 0) && open().length === 1, 15_000)
    const [winner] = open()
    winner.socket.write(Buffer.concat(frames.slice(1)))
    await waitFor('the transfer done', () => winner.states.includes('done'))
    for (const a of answers) a.socket.destroy()
    assert.deepEqual(readFileSync(join(downloads, 'race.bin')), data)
  })

  test('a sender reconnecting does not make bob re-read what arrived; a part file deleted meanwhile is read again', async (ctx) => {
    await autoAccept(true)
    const MiB1 = 1024 * 1024
    const data = randomBytes(64 * MiB1)
    const frames = framesFor([{ path: 'reconnects.bin', data }], MiB1) // offer, 64 × (header, bytes), file end
    /** Opens a connection, offers, and returns bob's first answer with the socket. */
    const offer = async (): Promise<{ socket: Awaited<ReturnType<typeof connect>>, status: { state: string, id: string, have: Array<[number, number, number]> } }> => {
      const socket = await connect('bob', 'files', { home: alice.home })
      socket.on('error', () => {})
      const replies = readFrames(socket, { chunkSize: () => 0 })
      socket.write(frames[0])
      const first = await replies.next()
      return { socket, status: JSON.parse(first.value!.payload.toString('utf8')) }
    }
    const first = await offer()
    assert.equal(first.status.state, 'accepted')
    first.socket.write(Buffer.concat(frames.slice(1, 1 + 2 * 48))) // 48 of 64 chunks, then the connection ends
    const id = first.status.id
    await waitFor('48 MiB at bob', async () => ((await transfers()).find(t => t.id === id)?.receivedBytes ?? 0) >= 48 * MiB1)
    first.socket.destroy()
    await waitFor('the first connection over', async () => (await transfers()).find(t => t.id === id)?.connected === false)

    // bytes bob's daemon reads by system call (files and sockets alike), from /proc; the connections'
    // ends are watched through the host's events (the CLI's listing reads every stored offer)
    const readBytes = (): number => Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${bobD.proc.pid}/io`, 'utf8'))?.[1])
    const control = await ControlClient.open('files', bob.home)
    let ended = 0
    control.onEvent((event, data) => { const t = data as TransferView; if (event === 'transfer' && t.id === id && !t.connected) ended++ })
    await control.request('subscribe')
    const before = readBytes()
    for (let i = 0; i < 5; i++) {
      const again = await offer()
      assert.deepEqual(again.status.have, [[0, 0, 48]], 'what arrived is still held')
      const seen = ended
      again.socket.destroy()
      await waitFor('the connection over', () => ended > seen)
    }
    const read = readBytes() - before
    control.close()
    ctx.diagnostic(`bob's daemon read ${(read / MiB1).toFixed(2)} MiB over 5 reconnects`)
    assert.ok(read < 16 * MiB1, `bob's daemon read ${(read / MiB1).toFixed(1)} MiB for 5 reconnects holding 48 MiB`)

    // the part file deleted by hand between connections: nothing of it is claimed, and all of it is sent again
    unlinkSync(join(downloads, '.cspace-partial', id, '0.part'))
    const after = await offer()
    assert.deepEqual(after.status.have, [])
    after.socket.destroy()
    await waitFor('the connection over', async () => (await transfers()).find(t => t.id === id)?.connected === false)
    const replies = await rawSession(alice.home, 'bob', frames)
    assert.equal(replies.at(-1)?.type, FrameType.DONE, JSON.stringify(replies.slice(-2)))
    assert.deepEqual(readFileSync(join(downloads, 'reconnects.bin')), data)
  })

  test('a sender stalled past bob\'s idle timeout is told IDLE, reconnects by itself and completes; meanwhile bob shows it waiting, at no rate', async () => {
    await autoAccept(true)
    await cli(bob.home, ['transfers', 'config', '--idle-timeout', '2'])
    const size = 1024 * MiB
    const sum = writeRandomFile(join(src, 'stalled.bin'), size)
    const control = await ControlClient.open('files', bob.home)
    let stopped = false
    try {
      // stopped once bob reports a rate (after a second of arriving), so that
      // "no rate" below can fail; on a machine that moves 3/4 of the file
      // within that second, then, so that the test does not race the transfer
      let rateSeen = 0
      const reached = new Promise<number>((resolve) => control.onEvent((event, data) => {
        const p = data as { receivedBytes: number, rate: number }
        if (event !== 'progress') return
        rateSeen = Math.max(rateSeen, p.rate)
        if (p.rate > 0 || p.receivedBytes >= size * 0.75) resolve(p.receivedBytes)
      }))
      await control.request('subscribe')
      const sender = spawnCspace(['send', 'bob', join(src, 'stalled.bin'), '--json'], { home: alice.home })
      let out = ''
      sender.stdout?.on('data', (b: Buffer) => { out += b.toString() })
      const exited = once(sender, 'exit') as Promise<[number | null]>
      const seen = await Promise.race([reached, exited.then((): never => { throw new Error(`the sender exited before bob reported a rate: ${out}`) })])
      // alice's daemon, which runs the sending files app, stops as a suspended machine would
      aliceD.proc.kill('SIGSTOP')
      stopped = true
      const waiting = await Promise.race([
        new Promise<TransferView>((resolve) => control.onEvent((event, data) => {
          const t = data as TransferView
          if (event === 'transfer' && t.paths[0] === 'stalled.bin' && !t.connected) resolve(t)
        })),
        new Promise<never>((_resolve, reject) => { setTimeout(() => { reject(new Error('bob did not end the quiet session within 30 s')) }, 30_000).unref() })
      ])
      assert.equal(waiting.state, 'accepted', 'not failed: it resumes')
      assert.equal(waiting.rate, 0, `no rate shown for a transfer nothing carries (${rateSeen} B/s shown while it arrived)`)
      assert.ok(waiting.receivedBytes >= seen && waiting.receivedBytes < size, `${waiting.receivedBytes} received`)
      assert.match(await cli(bob.home, ['transfers']), /accepted \d+%, waiting for the sender {2}from alice {2}stalled\.bin/)
      aliceD.proc.kill('SIGCONT')
      stopped = false
      const deadline = setTimeout(() => sender.kill('SIGKILL'), 180_000)
      const [code] = await exited
      clearTimeout(deadline)
      assert.equal(code, 0, out)
      assert.match(out, /"event":"reconnecting"[^\n]*heard nothing from this side for too long/)
      assert.equal(await sha256File(join(downloads, 'stalled.bin')), sum)
      const t = (await transfers()).find(x => x.paths[0] === 'stalled.bin')
      assert.equal(t?.state, 'complete')
      assert.ok(t.resumedBytes >= waiting.receivedBytes, `resumed from ${t.resumedBytes}`)
      // removed from a terminal: a front end following the host (a page) hears of it
      const removed = new Promise<string>((resolve) => control.onEvent((event, data) => { if (event === 'transfer:removed') resolve((data as { id: string }).id) }))
      await cli(bob.home, ['transfers', 'remove', t.id])
      assert.equal(await Promise.race([removed, new Promise<never>((_resolve, reject) => { setTimeout(() => { reject(new Error('no transfer:removed within 20 s')) }, 20_000).unref() })]), t.id)
      assert.equal((await transfers()).some(x => x.id === t.id), false)
    } finally {
      if (stopped) aliceD.proc.kill('SIGCONT')
      control.close()
      await cli(bob.home, ['transfers', 'config', '--idle-timeout', '120'])
    }
  })

  test(`a sender may leave at most ${MAX_WAITING_OFFERS_PER_SENDER} offers waiting for bob's answer; more are refused and not stored`, async () => {
    await autoAccept(false)
    /** Offers files and leaves at the receiver's first answer: the offer stays, waiting for bob. */
    const offerAndLeave = async (name: string): Promise<Reply> => {
      const socket = await connect('bob', 'files', { home: alice.home })
      socket.on('error', () => {})
      socket.write(framesFor([{ path: name, data: Buffer.from(name) }])[0])
      try {
        for await (const frame of readFrames(socket, { chunkSize: () => 0 })) return { type: frame.type, body: JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown> }
        throw new Error('closed without an answer')
      } finally {
        socket.destroy()
      }
    }
    const waiting = async (): Promise<TransferView[]> => (await transfers()).filter(t => t.state === 'pending')
    const already = (await waiting()).length
    for (let i = already; i < MAX_WAITING_OFFERS_PER_SENDER; i++) {
      const r = await offerAndLeave(`waiting-${i}.txt`)
      assert.deepEqual([r.type, r.body.state], [FrameType.STATUS, 'waiting'])
    }
    const refused = await offerAndLeave('one-too-many.txt')
    assert.equal(refused.type, FrameType.ERROR)
    assert.equal(refused.body.code, 'TOO_MANY_OFFERS')
    assert.match(String(refused.body.message), /of your offers already wait for an answer/)
    const pending = await waiting()
    assert.equal(pending.length, MAX_WAITING_OFFERS_PER_SENDER, 'the refused offer was not stored')
    for (const t of pending) await cli(bob.home, ['transfers', 'decline', t.id])
    const after = await offerAndLeave('one-too-many.txt')
    assert.deepEqual([after.type, after.body.state], [FrameType.STATUS, 'waiting'], 'answered, they make room')
    await cli(bob.home, ['transfers', 'decline', String(after.body.id)])
    await autoAccept(true) // as the tests after this one expect
  })

  test(`offers being read hold at most ${MAX_ARRIVING_OFFER_BYTES / MiB} MiB in all: the one past it is told RECEIVER_BUSY; bob keeps serving`, async () => {
    const each = 7.5 * MiB
    const streams = Math.floor(MAX_ARRIVING_OFFER_BYTES / each) + 1
    const answers: Array<string | undefined> = Array.from({ length: streams }, () => undefined)
    const sockets = await Promise.all(Array.from({ length: streams }, async () => await connect('bob', 'files', { home: alice.home })))
    sockets.forEach((socket, i) => {
      socket.on('error', () => {})
      // an offer claiming 8 MiB whose bytes keep coming: bob holds what arrived
      const header = Buffer.alloc(5)
      header.writeUInt8(FrameType.OFFER, 0)
      header.writeUInt32BE(MAX_CONTROL_BYTES, 1)
      socket.write(Buffer.concat([header, Buffer.alloc(each, 0x20)]))
      void (async () => {
        for await (const frame of readFrames(socket, { chunkSize: () => 0 })) { answers[i] = String((JSON.parse(frame.payload.toString('utf8')) as { code?: unknown }).code); return }
      })().catch(() => {})
    })
    await waitFor('an offer refused as one too many', () => answers.includes('RECEIVER_BUSY') ? true : undefined)
    assert.deepEqual(answers.filter(a => a != null), ['RECEIVER_BUSY'], 'only the one past the limit, and no other answer yet')
    for (const socket of sockets) socket.destroy()
    const sum = writeRandomFile(join(src, 'after-offers.bin'), 1000)
    assert.equal((await runCli(alice.home, ['send', 'bob', join(src, 'after-offers.bin')])).code, 0)
    assert.equal(await sha256File(join(downloads, 'after-offers.bin')), sum)
  })

  test('killing the receiving daemon mid-transfer: the sender resumes, re-sending at most one chunk', async (ctx) => {
    const size = 256 * MiB
    const sum = writeRandomFile(join(src, 'big.bin'), size)
    const control = await ControlClient.open('files', bob.home)
    const killAt = received(control, 16 * MiB)
    await control.request('subscribe')
    const sender = spawnCspace(['send', 'bob', join(src, 'big.bin'), '--json'], { home: alice.home })
    const exited = once(sender, 'exit') as Promise<[number]>
    let out = ''
    sender.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    const seen = await killAt
    await bobD.kill()
    assert.ok(seen < size, `the transfer finished before the kill (${seen} bytes reported); use a bigger file`)
    bobD = await startDaemon(bob.home, boot)
    const deadline = setTimeout(() => sender.kill('SIGKILL'), 180_000)
    const [code] = await exited
    clearTimeout(deadline)
    control.close()
    assert.equal(code, 0, out)
    assert.match(out, /"event":"reconnecting"/)
    assert.equal(await sha256File(join(downloads, 'big.bin')), sum)
    const t = (await transfers()).find(x => x.paths[0] === 'big.bin')!
    assert.ok(t.resumedBytes >= seen, `resumed from ${t.resumedBytes}, but ${seen} had been reported received`)
    assert.ok(t.resumedBytes + t.sessionBytes <= size + DEFAULT_CHUNK, `re-sent ${t.resumedBytes + t.sessionBytes - size} bytes`)
    assert.equal(t.duplicateBytes, 0)
    ctx.diagnostic(`killed at >= ${seen} bytes reported; resumed from ${t.resumedBytes}; sent after restart ${t.sessionBytes}; re-sent ${t.resumedBytes + t.sessionBytes - size}`)
  })

  test('Ctrl-C on the sender mid-transfer: it says how to resume, and the same command resumes', async () => {
    const size = 256 * MiB
    const sum = writeRandomFile(join(src, 'big2.bin'), size)
    // killed on bob's own progress event, as the receiver test above: polling
    // with a CLI process per look took long enough on a slow machine for all
    // 256 MiB to arrive, and the re-send found the transfer complete
    let seen = 0
    const control = await ControlClient.open('files', bob.home)
    try {
      const reached = received(control, 8 * MiB + 1)
      await control.request('subscribe')
      const sender = spawnCspace(['send', 'bob', join(src, 'big2.bin'), '--json'], { home: alice.home })
      let stderr = ''
      sender.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
      const exited = once(sender, 'exit') as Promise<[number | null]>
      seen = await Promise.race([reached, exited.then((): never => { throw new Error('the sender exited before bob had 8 MiB') })])
      sender.kill('SIGINT')
      const [code] = await exited
      assert.equal(code, 130)
      assert.match(stderr, /cspace: stopped; run the same `cspace send` again to resume where it stopped\n$/)
    } finally {
      control.close()
    }
    assert.ok(seen < size, `the transfer finished before the kill (${seen} bytes received); use a bigger file`)
    const r = await runCli(alice.home, ['send', 'bob', join(src, 'big2.bin'), '--json'], { timeoutMs: 120_000 })
    assert.equal(r.code, 0, r.stderr)
    const accepted = r.stdout.split('\n').filter(l => l.includes('"accepted"')).map(l => JSON.parse(l) as { resumedBytes: number })
    assert.equal(accepted.length, 1, `the re-send was accepted once (not found complete): ${r.stdout.slice(0, 500)}`)
    assert.ok(accepted[0].resumedBytes > 8 * MiB, `resumed from ${accepted[0].resumedBytes}`)
    assert.equal(await sha256File(join(downloads, 'big2.bin')), sum)
  })

  test('declined while it arrives: the sender is told and stops, nothing lands, and what had arrived is deleted', async () => {
    await autoAccept(true)
    const size = 256 * MiB
    writeRandomFile(join(src, 'unwanted.bin'), size)
    const control = await ControlClient.open('files', bob.home)
    try {
      // declined from bob's own progress event: a CLI process per look is slow enough for all of it to arrive
      const declined = new Promise<string>((resolve, reject) => control.onEvent((event, data) => {
        const p = data as { id?: string, receivedBytes?: number }
        if (event === 'progress' && (p.receivedBytes ?? 0) > 8 * MiB && p.id != null) {
          const id = p.id
          control.request('decline', { transfer: id }).then(() => resolve(id), reject)
        }
      }))
      await control.request('subscribe')
      const sender = spawnCspace(['send', 'bob', join(src, 'unwanted.bin')], { home: alice.home })
      let stderr = ''
      sender.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
      const exited = once(sender, 'exit') as Promise<[number | null]>
      const id = await Promise.race([declined, exited.then((): never => { throw new Error(`the sender exited before bob had 8 MiB: ${stderr}`) })])
      const [code] = await exited
      assert.equal(code, 1, stderr)
      assert.match(stderr, /bob declined the files/)
      assert.equal((await transfers()).find(t => t.id === id)?.state, 'declined')
      assert.equal(existsSync(join(downloads, 'unwanted.bin')), false)
      // a declined transfer never resumes: what had arrived goes too, once the connection has ended
      await waitFor('what had arrived deleted', async () => (await transfers()).find(t => t.id === id)?.partialDir === null)
      assert.equal(existsSync(join(downloads, '.cspace-partial', id)), false)
    } finally {
      control.close()
    }
  })

  test('the sending daemon killed mid-transfer: `cspace send` says to start it again and re-run, and the re-run resumes', async () => {
    await autoAccept(true)
    const size = 256 * MiB
    const sum = writeRandomFile(join(src, 'big3.bin'), size)
    const control = await ControlClient.open('files', bob.home)
    try {
      const reached = received(control, 8 * MiB + 1)
      await control.request('subscribe')
      const sender = spawnCspace(['send', 'bob', join(src, 'big3.bin')], { home: alice.home })
      let stderr = ''
      sender.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
      const exited = once(sender, 'exit') as Promise<[number | null]>
      await Promise.race([reached, exited.then((): never => { throw new Error('the sender exited before bob had 8 MiB') })])
      await aliceD.kill()
      const [code] = await exited
      assert.equal(code, 1, stderr)
      assert.match(stderr, /the daemon stopped while sending; start it again and run the same `cspace send` to resume where it stopped\n$/)
    } finally {
      control.close()
      aliceD = await startDaemon(alice.home, boot)
    }
    await waitFor('alice\'s files host', async () => (await runCli(alice.home, ['transfers'])).code === 0, 20_000, 200)
    const r = await runCli(alice.home, ['send', 'bob', join(src, 'big3.bin'), '--json'], { timeoutMs: 120_000 })
    assert.equal(r.code, 0, r.stderr)
    const accepted = r.stdout.split('\n').filter(l => l.includes('"accepted"')).map(l => JSON.parse(l) as { resumedBytes: number })
    assert.ok(accepted.length >= 1 && accepted[0].resumedBytes > 8 * MiB, `resumed: ${r.stdout.slice(0, 300)}`)
    assert.equal(await sha256File(join(downloads, 'big3.bin')), sum)
  })

  test('a file that shrinks while it is sent: the sender says so, and the receiver drops what arrived, which no send can resume', async () => {
    await autoAccept(true)
    const shrinking = join(src, 'shrinking.bin')
    // sparse: 2 GiB of zeros at once, long enough in flight to be cut short
    const fd = openSync(shrinking, 'w')
    ftruncateSync(fd, 2 * 1024 * MiB)
    closeSync(fd)
    const control = await ControlClient.open('files', bob.home)
    try {
      const reached = received(control, 8 * MiB + 1)
      await control.request('subscribe')
      const sender = spawnCspace(['send', 'bob', shrinking], { home: alice.home })
      let stderr = ''
      sender.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
      const exited = once(sender, 'exit') as Promise<[number | null]>
      await Promise.race([reached, exited.then((): never => { throw new Error(`the sender exited before bob had 8 MiB: ${stderr}`) })])
      truncateSync(shrinking, MiB)
      const [code] = await exited
      assert.notEqual(code, 0)
      assert.match(stderr, /shrinking\.bin: it changed while sending; run the command again/)
      const failed = await waitFor('bob\'s transfer failed, what arrived deleted', async () => (await transfers()).find(t => t.paths[0] === 'shrinking.bin' && t.state === 'failed' && t.partialDir === null))
      assert.match(failed.error ?? '', /the sender's files changed while they were sent; a new send of them is a new transfer/)
      assert.equal(existsSync(join(downloads, '.cspace-partial', failed.id)), false)
    } finally {
      control.close()
      rmSync(shrinking, { force: true })
    }
  })

  test('a downloads directory gone read-only: the receiver says so, the sender that bob could not store them (not that he refused); writable again, the same send completes', async () => {
    await autoAccept(true)
    const mnt = tempDir('cspace-files-ro-')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt])
    try {
      await useDownloads(mnt)
      execFileSync('mount', ['-o', 'remount,ro', mnt])
      const sum = writeRandomFile(join(src, 'ro.bin'), 64 * 1024)
      const r = await runCli(alice.home, ['send', 'bob', join(src, 'ro.bin'), '--retry-for', '0'])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /bob could not store the files; ask them to check `cspace transfers`\n$/)
      const t = (await transfers()).find(x => x.paths[0] === 'ro.bin')
      assert.match(t?.error ?? '', /cannot store the files: the downloads directory is on a read-only file system/)
      execFileSync('mount', ['-o', 'remount,rw', mnt])
      const again = await runCli(alice.home, ['send', 'bob', join(src, 'ro.bin')])
      assert.equal(again.code, 0, again.stderr)
      assert.equal(await sha256File(join(mnt, 'ro.bin')), sum)
    } finally {
      await useDownloads(downloads)
      execFileSync('umount', ['-l', mnt])
    }
  })

  test('a full disk is reported to both sides and leaves no file', async () => {
    const mnt = tempDir('cspace-files-tmpfs-')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt])
    try {
      await useDownloads(mnt)
      // too big from the start: refused before anything is written
      writeRandomFile(join(src, 'huge.bin'), 3 * MiB)
      const r = await runCli(alice.home, ['send', 'bob', join(src, 'huge.bin')])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /bob's disk is full/)
      assert.match((await transfers()).find(x => x.paths[0] === 'huge.bin')?.error ?? '', /disk is full/)
      // fits when offered, but the disk fills up before it is accepted: fails while writing
      await autoAccept(false)
      const fitsSum = writeRandomFile(join(src, 'fits.bin'), 1536 * 1024)
      const sender = runCli(alice.home, ['send', 'bob', join(src, 'fits.bin')])
      const offer = await waitFor('the offer', async () => (await transfers()).find(t => t.state === 'pending' && t.paths[0] === 'fits.bin'))
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(1024 * 1024))
      // accepted with `receive --json`: it ends with the outcome as a line, also when that came before any event
      const received = await runCli(bob.home, ['receive', offer.id, '--json'])
      assert.equal(received.code, 1, received.stderr)
      const result = received.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l) as { event: string, data: { id: string, state: string, error?: string } }).find(e => e.event === 'result')
      assert.equal(result?.data.id, offer.id, received.stdout)
      assert.equal(result?.data.state, 'failed')
      assert.match(result?.data.error ?? '', /disk is full/)
      const r2 = await sender
      assert.equal(r2.code, 1)
      assert.match(r2.stderr, /bob's disk is full/)
      assert.deepEqual(visible(mnt), ['filler'])
      const t = (await transfers()).find(x => x.id === offer.id)
      assert.equal(t?.state, 'failed')
      // once there is room, the same command completes it (from whichever chunks were written)
      rmSync(join(mnt, 'filler'))
      const r3 = await runCli(alice.home, ['send', 'bob', join(src, 'fits.bin')])
      assert.equal(r3.code, 0, r3.stderr)
      assert.equal(await sha256File(join(mnt, 'fits.bin')), fitsSum)
      assert.deepEqual(visible(mnt), ['fits.bin'])
    } finally {
      await useDownloads(downloads)
      await autoAccept(true)
      execFileSync('umount', ['-l', mnt])
    }
  })
})
