import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { createInterface } from 'node:readline'
import { listen, type Listener } from '../../src/sdk/index.js'
import { FrameType, encodeControl, encodeFrame, readFrames } from '../../src/apps/files/index.js'
import { cleanupAll, makeProfile, runCli, startDaemon, waitOnline } from '../helpers/cli.js'
import { tempDir, writeRandomFile } from '../helpers/files.js'

const ESCAPES = '\u001b]0;owned\u0007\u001b[2J\u001b[31m'

/**
 * Alice's apps against a contact whose daemon runs no apps and whose
 * services are written here (carol): the answers a broken or hostile peer
 * could give. Alice's daemon must stay responsive, and her terminal must not
 * get the peer's escape sequences.
 */
describe('apps: answers from a hostile peer', () => {
  let alice: Awaited<ReturnType<typeof makeProfile>>
  let carol: Awaited<ReturnType<typeof makeProfile>>
  const src = tempDir('cspace-hostile-src-')
  const listeners: Listener[] = []

  /** Carol's `files` service: reads alice's offer, answers with `reply`. */
  async function filesAnswering (reply: (offerId: string) => Buffer): Promise<void> {
    listeners.push(await listen('files', (socket: Duplex) => {
      socket.on('error', () => {})
      void (async () => {
        for await (const frame of readFrames(socket, { chunkSize: () => 0 })) {
          if (frame.type === FrameType.OFFER) socket.end(reply('0123456789abcdef'))
          break
        }
      })().catch(() => { socket.destroy() })
    }, { home: carol.home }))
  }

  before(async () => {
    const router = await startDaemon((await makeProfile('router')).home, ['--router', '--no-apps'])
    alice = await makeProfile('alice')
    carol = await makeProfile('carol')
    await runCli(alice.home, ['contacts', 'add', 'carol', carol.userId])
    await runCli(carol.home, ['contacts', 'add', 'alice', alice.userId])
    await startDaemon(carol.home, ['--bootstrap', router.addresses[0], '--no-apps'])
    await startDaemon(alice.home, ['--bootstrap', router.addresses[0]])
    await waitOnline(alice.home, 'carol')
  })

  after(async () => {
    for (const l of listeners) l.close()
    await cleanupAll()
  })

  const closeListeners = async (): Promise<void> => {
    for (const l of listeners.splice(0)) { l.close(); await l.closed }
  }

  test('files: a list of held chunks longer than the files have chunks is refused, not walked', async () => {
    // 100 000 ranges each claiming a million chunks: walked range by range, that is 10^11 steps on the daemon's event loop
    await filesAnswering(id => encodeControl(FrameType.STATUS, { state: 'accepted', id, have: Array.from({ length: 100_000 }, () => [0, 0, 1_000_000]) }))
    try {
      const file = join(src, 'small.bin')
      writeRandomFile(file, 200_000)
      const r = await runCli(alice.home, ['send', 'carol', file], { timeoutMs: 60_000 })
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /^cspace: carol's daemon listed more held ranges than the files have chunks; it may be broken or hostile\n$/)
      assert.equal((await runCli(alice.home, ['status', '--json'])).code, 0, 'alice\'s daemon still answers')
    } finally {
      await closeListeners()
    }
  })

  test('files: the receiver\'s saved names and refusals reach the terminal without escape sequences', async () => {
    const file = join(src, 'report.bin')
    writeRandomFile(file, 1000)
    await filesAnswering(id => encodeControl(FrameType.DONE, { id, saved: [`${ESCAPES}report.pdf\nsecond line`] }))
    try {
      const r = await runCli(alice.home, ['send', 'carol', file])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'sent to carol: ?]0;owned??[2J?[31mreport.pdf?second line\n')
    } finally {
      await closeListeners()
    }
    await filesAnswering(() => encodeControl(FrameType.ERROR, { code: `${ESCAPES}X`, message: `${ESCAPES}ok: sent\nmore` }))
    try {
      const r = await runCli(alice.home, ['send', 'carol', file])
      assert.equal(r.code, 1, r.stderr)
      assert.equal(r.stderr, 'cspace: carol refused the transfer: ?]0;owned??[2J?[31mok: sent?more\n')
    } finally {
      await closeListeners()
    }
  })

  test('files: a transfer ID that is not one, nested too deep to print, is refused in one line', async () => {
    const file = join(src, 'deep.bin')
    writeRandomFile(file, 1000)
    // JSON.parse reads this nesting; JSON.stringify and String() overflow the stack on it
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    await filesAnswering(() => encodeFrame(FrameType.DONE, Buffer.from(`{"id":${deep},"saved":[${deep},"deep.bin"]}`)))
    try {
      const r = await runCli(alice.home, ['send', 'carol', file])
      assert.equal(r.code, 1, r.stderr)
      assert.equal(r.stderr, 'cspace: carol\'s daemon sent (a list) as the transfer\'s ID; it may be broken or hostile\n')
    } finally {
      await closeListeners()
    }
    await filesAnswering(() => encodeControl(FrameType.STATUS, { state: 'waiting', id: `${ESCAPES}x` }))
    try {
      const r = await runCli(alice.home, ['send', 'carol', file])
      assert.equal(r.code, 1, r.stderr)
      assert.equal(r.stderr, 'cspace: carol\'s daemon sent "?]0;owned??[2J?[31mx" as the transfer\'s ID; it may be broken or hostile\n')
    } finally {
      await closeListeners()
    }
  })

  test('files: a receiver reading too many offers at once (RECEIVER_BUSY) is offered the files again', async () => {
    const file = join(src, 'later.bin')
    writeRandomFile(file, 1000)
    let offers = 0
    await filesAnswering(id => ++offers === 1
      ? encodeControl(FrameType.ERROR, { code: 'RECEIVER_BUSY', message: 'the receiver is reading too many offers at once' })
      : encodeControl(FrameType.DONE, { id, saved: ['later.bin'] }))
    try {
      const r = await runCli(alice.home, ['send', 'carol', file, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const events = r.stdout.trim().split('\n').map(l => JSON.parse(l) as { event: string, reason?: string })
      assert.match(events.find(e => e.event === 'reconnecting')?.reason ?? '', /carol is reading too many offers at once/)
      assert.equal(events.at(-1)?.event, 'done')
      assert.equal(offers, 2)
    } finally {
      await closeListeners()
    }
  })

  test('chat: a refusal\'s text reaches the terminal without escape sequences', async () => {
    listeners.push(await listen('chat', (socket: Duplex) => {
      socket.on('error', () => {})
      const lines = createInterface({ input: socket })
      lines.once('line', (line) => {
        const { id } = JSON.parse(line) as { id: string }
        socket.write(JSON.stringify({ v: 1, t: 'error', code: 'BAD_FRAME', message: `${ESCAPES}refused\nfor real`, id }) + '\n')
      })
    }, { home: carol.home }))
    try {
      const r = await runCli(alice.home, ['chat', 'carol', '--send', 'hello'])
      assert.equal(r.code, 1, r.stderr)
      assert.doesNotMatch(r.stderr, /\u001b/) // eslint-disable-line no-control-regex
      assert.match(r.stderr, /^cspace: [^\n]*refused by the other side: \?\]0;owned\?\?\[2J\?\[31mrefused\?for real\n$/)
    } finally {
      await closeListeners()
    }
  })
})
