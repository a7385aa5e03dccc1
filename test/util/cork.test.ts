import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { corkForTick, corkForTurn } from '../../src/util/cork.js'

/** A writable that records each write it is handed: one entry per write or writev. */
function recorder (): { stream: Writable, writes: string[] } {
  const writes: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) { writes.push(chunk.toString()); cb() },
    writev (chunks, cb) { writes.push(chunks.map(c => (c.chunk as Buffer).toString()).join('')); cb() }
  })
  return { stream, writes }
}

test('corkForTurn: writes from the callback and from promise hops after it leave as one', async () => {
  const { stream, writes } = recorder()
  await new Promise<void>((resolve) => {
    setImmediate(() => {
      corkForTurn(stream); stream.write('ack ')
      void Promise.resolve().then(async () => { await null; corkForTurn(stream); stream.write('answer') })
      setImmediate(() => { setImmediate(resolve) })
    })
  })
  assert.deepEqual(writes, ['ack answer'])
})

test('corkForTick: the same writes leave as two, the promise hop after the tick', async () => {
  const { stream, writes } = recorder()
  await new Promise<void>((resolve) => {
    setImmediate(() => {
      corkForTick(stream); stream.write('ack ')
      void Promise.resolve().then(async () => { await null; corkForTick(stream); stream.write('answer') })
      setImmediate(() => { setImmediate(resolve) })
    })
  })
  assert.deepEqual(writes, ['ack ', 'answer'])
})
