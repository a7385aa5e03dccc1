import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ChunkRing, RING_BYTES } from '../../../src/apps/files/chunk-ring.js'
import { DEFAULT_CHUNK } from '../../../src/apps/files/index.js'

/** Where each stretch handed out starts in the ring's memory, and its length. */
function stretches (ring: ChunkRing, lengths: number[]): Array<{ start: number, length: number }> {
  let base: number | undefined
  return lengths.map((length) => {
    const b = ring.next(length)
    base ??= b.byteOffset
    return { start: b.byteOffset - base, length }
  })
}

describe('ChunkRing', () => {
  test('a byte is handed out again only after a ring of other bytes, whatever the chunks\' sizes', () => {
    // a thousand small files' chunks, then whole chunks: at least RING_BYTES
    // less one chunk handed out between two uses of any byte
    const lengths = [...Array.from({ length: 20_000 }, () => 2000), ...Array.from({ length: 12 }, () => DEFAULT_CHUNK), 17, 1]
    const total = lengths.reduce((a, b) => a + b, 0)
    const out = stretches(new ChunkRing(DEFAULT_CHUNK, total), lengths)
    // a stretch's start → its length and the bytes handed out before it, at its last use
    const lastUse = new Map<number, { length: number, at: number }>()
    let handedOut = 0
    for (const s of out) {
      for (const [start, before] of lastUse) {
        // an earlier stretch overlapping this one: far enough back
        if (start < s.start + s.length && s.start < start + before.length) {
          assert.ok(handedOut - before.at >= RING_BYTES - DEFAULT_CHUNK, `reused after ${handedOut - before.at} bytes`)
        }
      }
      lastUse.set(s.start, { length: s.length, at: handedOut })
      handedOut += s.length
    }
    assert.ok(out.some((s, i) => i > 0 && s.start === 0), 'the test wrapped the ring')
  })

  test('a session smaller than the ring never wraps', () => {
    const lengths = Array.from({ length: 500 }, () => 2000)
    const out = stretches(new ChunkRing(DEFAULT_CHUNK, 500 * 2000), lengths)
    assert.deepEqual(out.map(s => s.start), lengths.map((_, i) => i * 2000))
  })
})
