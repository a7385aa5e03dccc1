import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { corkForTick, corkForTurn } from '../../src/util/cork.js'

/**
 * What a writable is handed (one entry per write or writev) when, in one I/O
 * callback, 'ack ' is written and 'answer' two promise hops later, each
 * write corked with `cork` first.
 */
async function writesOfCallbackAndPromiseHop (cork: (stream: Writable) => void): Promise<string[]> {
  const writes: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) { writes.push(chunk.toString()); cb() },
    writev (chunks, cb) { writes.push(chunks.map(c => (c.chunk as Buffer).toString()).join('')); cb() }
  })
  await new Promise<void>((resolve) => {
    setImmediate(() => {
      cork(stream); stream.write('ack ')
      void Promise.resolve().then(async () => { await null; cork(stream); stream.write('answer') })
      setImmediate(() => { setImmediate(resolve) })
    })
  })
  return writes
}

test('corkForTurn: writes from the callback and from promise hops after it leave as one', async () => {
  assert.deepEqual(await writesOfCallbackAndPromiseHop(corkForTurn), ['ack answer'])
})

test('corkForTick: the same writes leave as two, the promise hop after the tick', async () => {
  assert.deepEqual(await writesOfCallbackAndPromiseHop(corkForTick), ['ack ', 'answer'])
})

test('a stream corked elsewhere stays corked: its writes wait for that cork, not for the tick', async () => {
  const writes: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, cb) { writes.push(chunk.toString()); cb() } })
  stream.cork() // someone else's, undone later
  corkForTick(stream)
  stream.write('held')
  await new Promise<void>((resolve) => { setImmediate(resolve) })
  assert.deepEqual(writes, [], 'not flushed at the end of the tick')
  assert.equal(stream.writableCorked, 1)
  stream.uncork()
  await new Promise<void>((resolve) => { setImmediate(resolve) })
  assert.deepEqual(writes, ['held'])
})
