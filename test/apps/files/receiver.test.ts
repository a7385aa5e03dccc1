import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair, type Duplex } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Receiver } from '../../../src/apps/files/receiver.js'
import { tidyAfterStop } from '../../../src/apps/files/leftovers.js'
import { FilesStore, type TransferRow } from '../../../src/apps/files/store.js'
import { PartialTransfer } from '../../../src/apps/files/partial.js'
import { FrameType, readFrames } from '../../../src/apps/files/wire.js'
import type { Caller } from '../../../src/sdk/index.js'
import { removeTempDirs, tempDir } from '../../helpers/files.js'
import { waitFor } from '../../helpers/wait.js'
import { framesFor } from './helpers.js'

after(removeTempDirs)

const caller = { userId: 'u1-alice', contactName: 'alice' } as unknown as Caller

interface Connection { sender: Duplex, served: Duplex, states: string[], ended: boolean }

/** A connection handed to the receiver as the service gives it one: `served` is bob's end, `sender` the far one, `states` what bob said on it. */
function connection (receiver: Receiver): Connection {
  const [sender, served] = duplexPair()
  receiver.handle(served, caller)
  const c: Connection = { sender, served, states: [], ended: false }
  void (async () => {
    try {
      for await (const frame of readFrames(sender, { chunkSize: () => 0 })) c.states.push((JSON.parse(frame.payload.toString('utf8')) as { state?: string }).state ?? String(frame.type))
    } catch {}
    c.ended = true
  })()
  return c
}

/**
 * Receiver on its own (no daemon): a real store and in-process sockets, so
 * the order of events around one transfer can be set exactly.
 */
describe('Receiver: a connection waiting to take a transfer', () => {
  const store = FilesStore.open(tempDir('cspace-files-receiver-'))
  const receiver = new Receiver(store, () => {})
  after(async () => { await receiver.closeAll(); store.close() })

  test('a connection waiting to take a transfer being removed gives up; nothing of it is left', async () => {
    const [offer] = framesFor([{ path: 'gone.bin', data: Buffer.alloc(1000, 7) }])
    // the first connection holds the offer, waiting for bob's answer (not auto-accepted)
    const first = connection(receiver)
    first.sender.write(offer)
    await waitFor('the first connection holding the transfer', () => first.states.includes('waiting'))
    const [{ id }] = store.list()
    assert.equal(receiver.connected(id), true)
    // the same sender reconnects: the new connection drops the first and
    // waits for it to end before taking the transfer. The moment the first
    // is closed, bob removes the transfer: both then wait on the first's end
    let removal: Promise<void> | undefined
    first.served.once('close', () => { removal = receiver.remove(id, () => { store.remove(id) }) })
    const second = connection(receiver)
    second.sender.write(offer)
    await waitFor('the removal under way', () => removal != null)
    await removal
    await waitFor('the second connection closed', () => second.ended, 5000)
    assert.deepEqual(second.states, [], 'the waiting connection was closed without taking the transfer')
    assert.equal(receiver.connected(id), false, 'no connection holds the removed transfer')
    assert.equal(store.get(id), undefined, 'the removed transfer is not recorded again')
  })

  test('a connection waiting to take a transfer when the app shuts down gives up', async () => {
    const ownStore = FilesStore.open(tempDir('cspace-files-receiver-'))
    const ownReceiver = new Receiver(ownStore, () => {})
    try {
      const [offer] = framesFor([{ path: 'stop.bin', data: Buffer.alloc(1000, 8) }])
      const first = connection(ownReceiver)
      first.sender.write(offer)
      await waitFor('the first connection holding the transfer', () => first.states.includes('waiting'))
      const [{ id }] = ownStore.list()
      let closing: Promise<void> | undefined
      first.served.once('close', () => { closing = ownReceiver.closeAll() })
      const second = connection(ownReceiver)
      second.sender.write(offer)
      await waitFor('shutdown under way', () => closing != null)
      await closing
      await waitFor('the second connection closed', () => second.ended, 5000)
      assert.deepEqual(second.states, [])
      assert.equal(ownReceiver.connected(id), false, 'no connection holds the transfer after shutdown')
      assert.equal(ownStore.get(id)?.state, 'pending', 'the offer stays, for the sender to make again')
    } finally {
      ownStore.close()
    }
  })
})

/**
 * A declined transfer never resumes: what had arrived of it is deleted, but
 * only once no connection writes to it.
 */
/** A receiver of its own that accepts alice's offers at once, into a downloads directory of its own; closed after this file's tests. */
function acceptingReceiver (): { store: FilesStore, receiver: Receiver, downloads: string } {
  const store = FilesStore.open(tempDir('cspace-files-receiver-'))
  const downloads = tempDir('cspace-files-receiver-dl-')
  store.saveSettings({ ...store.settings(), downloads, acceptFrom: ['alice'] })
  const receiver = new Receiver(store, () => {})
  after(async () => { await receiver.closeAll(); store.close() })
  return { store, receiver, downloads }
}

/** Half of a 1 MiB file's chunks arrive over `c` (accepted at once): the transfer's row once they are stored, and the whole file's frames and data. */
async function halfArrived (store: FilesStore, c: Connection, name: string): Promise<{ row: TransferRow, frames: Buffer[], data: Buffer }> {
  const data = randomBytes(1024 * 1024)
  const frames = framesFor([{ path: name, data }])
  for (const f of frames.slice(0, 17)) c.sender.write(f) // the offer, then 8 of 16 chunks (header and bytes each)
  const row = await waitFor('the first chunks stored', () => {
    const r = store.list().find(t => t.paths.includes(name))
    const log = r?.partialDir == null ? '' : join(r.partialDir, 'chunks.log')
    return r != null && existsSync(log) && statSync(log).size >= 8 * 40 ? r : undefined
  })
  assert.equal(row.state, 'accepted')
  return { row, frames, data }
}

describe('Receiver: what had arrived of a declined transfer', () => {
  const { store, receiver, downloads } = acceptingReceiver()

  test('declined while it arrives: deleted when the connection ends, not before; a sender holding on is dropped', async () => {
    const c = connection(receiver)
    const { row } = await halfArrived(store, c, 'unwanted.bin')
    receiver.decide(row, false)
    await receiver.discardDeclined(row.id) // as the decline request does
    assert.equal(receiver.connected(row.id), true, 'this sender holds on after being told (a well-behaved one closes)')
    assert.ok(existsSync(row.partialDir!), 'nothing deleted under a connection that may still be writing')
    await waitFor('the receiver dropping the sender that holds on', () => c.served.destroyed, 10_000)
    await waitFor('the data deleted', () => store.get(row.id)?.partialDir == null && !existsSync(row.partialDir!))
    assert.deepEqual(c.states.slice(-1), ['declined'], 'the sender was told')
    assert.equal(store.get(row.id)?.state, 'declined', 'the decline is kept (a re-send is told so)')
    assert.equal(existsSync(join(downloads, 'unwanted.bin')), false)
  })

  test('declined between connections: deleted at once', async () => {
    const c = connection(receiver)
    const { row } = await halfArrived(store, c, 'later.bin')
    c.sender.destroy() // the sender's connection drops: the transfer waits for a resume
    await waitFor('no connection holding it', () => !receiver.connected(row.id))
    assert.ok(existsSync(row.partialDir!), 'kept for a resume')
    receiver.decide(store.get(row.id)!, false)
    await receiver.discardDeclined(row.id)
    assert.equal(existsSync(row.partialDir!), false)
    assert.equal(store.get(row.id)?.partialDir, null)
  })

  test('a daemon stopped between a decline and the delete: deleted at the next start', async () => {
    const c = connection(receiver)
    const { row } = await halfArrived(store, c, 'stopped.bin')
    c.sender.destroy()
    await waitFor('no connection holding it', () => !receiver.connected(row.id))
    // the state a stop right after the decline was recorded leaves
    store.update(row.id, { state: 'declined' })
    await tidyAfterStop(store)
    assert.equal(existsSync(row.partialDir!), false)
    assert.equal(store.get(row.id)?.partialDir, null)
  })
})

describe('Receiver: a delivery into the downloads directory that failed part way', () => {
  const { store, receiver, downloads } = acceptingReceiver()

  test('sent again: the delivery is finished, and nothing is delivered twice', async () => {
    const first = connection(receiver)
    const { row, frames, data } = await halfArrived(store, first, 'report.bin')
    first.sender.destroy()
    await waitFor('no connection holding it', () => !receiver.connected(row.id))
    // what a failure mid-move leaves (the file linked to its name, the old name not yet gone), recorded as failed
    const dir = row.partialDir!
    mkdirSync(join(dir, 'tree'))
    writeFileSync(join(dir, 'tree', 'report.bin'), data)
    writeFileSync(join(dir, 'moves.log'), JSON.stringify({ top: 'report.bin', candidate: 'report.bin' }) + '\n')
    linkSync(join(dir, 'tree', 'report.bin'), join(downloads, 'report.bin'))
    store.update(row.id, { state: 'failed', error: 'cannot store the files: EACCES' })

    const again = connection(receiver)
    for (const f of frames) again.sender.write(f)
    await waitFor('the sender told it is done', () => again.ended)
    assert.deepEqual(again.states, [String(FrameType.DONE)], 'done at once: nothing asked for again')
    assert.deepEqual(readdirSync(downloads).filter(n => !n.startsWith('.')), ['report.bin'])
    assert.deepEqual(readFileSync(join(downloads, 'report.bin')), data)
    const done = store.get(row.id)
    assert.equal(done?.state, 'complete')
    assert.deepEqual(done?.saved, ['report.bin'])
    assert.equal(done?.partialDir, null)
    assert.equal(existsSync(dir), false)
  })
})

describe('Receiver: finished files being readied when the user says otherwise', () => {
  const { store, receiver, downloads } = acceptingReceiver()
  // held at the start of finalize (the files synced and readied there take a while): the test acts, then lets it go
  const finalize = PartialTransfer.prototype.finalize
  let atFinalize: () => void = () => {}
  let release: () => void = () => {}
  PartialTransfer.prototype.finalize = async function (this: PartialTransfer, ...args: Parameters<typeof finalize>) {
    const gate = new Promise<void>((resolve) => { release = resolve })
    atFinalize()
    await gate
    return await finalize.apply(this, args)
  }
  after(() => { PartialTransfer.prototype.finalize = finalize })

  /** A whole file sent over `c`, held at finalize: its row. */
  async function heldAtFinalize (c: Connection, name: string): Promise<TransferRow> {
    const reached = new Promise<void>((resolve) => { atFinalize = resolve })
    for (const f of framesFor([{ path: name, data: randomBytes(300_000) }])) c.sender.write(f)
    await reached
    return store.list().find(t => t.paths.includes(name))!
  }

  test('declined: nothing is delivered, and what had arrived is deleted', async () => {
    const c = connection(receiver)
    const row = await heldAtFinalize(c, 'declined-late.bin')
    receiver.decide(row, false)
    release()
    await waitFor('the data deleted', () => store.get(row.id)?.partialDir == null)
    assert.equal(existsSync(join(downloads, 'declined-late.bin')), false)
    assert.equal(store.get(row.id)?.state, 'declined')
    assert.equal(existsSync(row.partialDir!), false)
  })

  test('removed (`cspace transfers remove`): nothing is delivered, nothing is kept', async () => {
    const c = connection(receiver)
    const row = await heldAtFinalize(c, 'removed-late.bin')
    const removal = receiver.remove(row.id, () => { rmSync(row.partialDir!, { recursive: true, force: true }); store.remove(row.id) })
    release()
    await removal
    assert.equal(existsSync(join(downloads, 'removed-late.bin')), false)
    assert.equal(store.get(row.id), undefined)
  })
})

describe('Receiver: a complete transfer whose files were deleted, sent again', () => {
  const { store, receiver, downloads } = acceptingReceiver()

  test('received anew, even if the first left its partial directory behind (it could not be deleted)', async () => {
    const data = randomBytes(200_000)
    const frames = framesFor([{ path: 'again.bin', data }])
    const first = connection(receiver)
    for (const f of frames) first.sender.write(f)
    await waitFor('the first delivery', () => first.ended)
    const row = store.list().find(t => t.paths.includes('again.bin'))!
    assert.equal(row.state, 'complete')
    // what a partial directory that could not be deleted leaves: its emptied tree and its journal
    const dir = join(downloads, '.cspace-partial', row.id)
    mkdirSync(join(dir, 'tree'), { recursive: true })
    writeFileSync(join(dir, 'moves.log'), JSON.stringify({ top: 'again.bin', candidate: 'again.bin' }) + '\n')
    store.update(row.id, { partialDir: dir })
    rmSync(join(downloads, 'again.bin')) // the user deletes what arrived

    const second = connection(receiver)
    for (const f of frames) second.sender.write(f)
    await waitFor('the second delivery', () => second.ended)
    assert.deepEqual(readFileSync(join(downloads, 'again.bin')), data, 'delivered again, not taken as delivered by the old journal')
    assert.equal(store.get(row.id)?.state, 'complete')
  })
})
