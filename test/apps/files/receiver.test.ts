import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair, type Duplex } from 'node:stream'
import { Receiver } from '../../../src/apps/files/receiver.js'
import { FilesStore } from '../../../src/apps/files/store.js'
import { readFrames } from '../../../src/apps/files/wire.js'
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
