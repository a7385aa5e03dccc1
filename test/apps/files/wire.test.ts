import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import type { Socket } from 'node:net'
import { spawnSync } from 'node:child_process'
import { FrameType, MAX_CONTROL_BYTES, MAX_SMALL_CONTROL_BYTES, encodeControl, encodeFrame, numberedName, parseOffer, readFrames, sanitizePath } from '../../../src/apps/files/index.js'
import { ByteBudget } from '../../../src/apps/files/byte-budget.js'

async function frames (bytes: Buffer[], chunkSize = 65536): Promise<number[]> {
  const s = new PassThrough()
  for (const b of bytes) s.write(b)
  s.end()
  const out: number[] = []
  for await (const f of readFrames(s as unknown as Socket, { chunkSize: () => chunkSize })) out.push(f.type)
  return out
}

/** The wire format and the name rules on bad input, without daemons. */
describe('files: wire format and names', () => {
  test('frames split across any boundary are reassembled', async () => {
    const all = Buffer.concat([encodeControl(FrameType.STATUS, { a: 1 }), encodeFrame(FrameType.DATA, Buffer.alloc(100)), encodeControl(FrameType.DONE, {})])
    const pieces = [...all].map((_, i) => all.subarray(i, i + 1))
    assert.deepEqual(await frames(pieces), [FrameType.STATUS, FrameType.DATA, FrameType.DONE])
  })

  test('payloads come out whole and unchanged, DATA ones in the buffers the reader supplies', async () => {
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251))
    const all = Buffer.concat([encodeFrame(FrameType.DATA, data), encodeControl(FrameType.STATUS, { n: 1 }), encodeFrame(FrameType.DATA, Buffer.alloc(0)), encodeControl(FrameType.DONE, { ok: true })])
    for (const size of [1, 7, 4096, 16384, all.length]) {
      const s = new PassThrough()
      for (let i = 0; i < all.length; i += size) s.write(all.subarray(i, i + size))
      s.end()
      const supplied: Buffer[] = []
      const got: Array<{ type: number, payload: Buffer }> = []
      const dataBuffer = (n: number): Buffer => { const b = Buffer.alloc(n); supplied.push(b); return b }
      for await (const f of readFrames(s as unknown as Socket, { chunkSize: () => 65536 + 4464, dataBuffer })) got.push({ type: f.type, payload: Buffer.from(f.payload) })
      assert.deepEqual(got.map(f => f.type), [FrameType.DATA, FrameType.STATUS, FrameType.DATA, FrameType.DONE], `pieces of ${size}`)
      assert.ok(got[0].payload.equals(data), `pieces of ${size}`)
      assert.equal(got[2].payload.length, 0)
      assert.deepEqual(JSON.parse(got[3].payload.toString()), { ok: true })
      assert.deepEqual(supplied.map(b => b.length), [data.length, 0], 'DATA payloads, and only they, are assembled in the supplied buffers')
    }
  })

  test('a control header claiming megabytes reserves nothing until the bytes arrive', async () => {
    const s = new PassThrough()
    const header = Buffer.alloc(5)
    header.writeUInt8(FrameType.OFFER, 0)
    header.writeUInt32BE(MAX_CONTROL_BYTES, 1)
    const before = process.memoryUsage().arrayBuffers
    const reading = (async () => { for await (const _ of readFrames(s as unknown as Socket, { chunkSize: () => 65536 })) { /* none */ } })()
    s.write(Buffer.concat([header, Buffer.from('{"v"')]))
    await new Promise(resolve => setImmediate(resolve))
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, `${process.memoryUsage().arrayBuffers - before} bytes reserved for 4 received`)
    s.end()
    await assert.rejects(reading, { code: 'TRUNCATED' })
  })

  test('oversized, unknown and truncated frames are refused from the header', async () => {
    const huge = Buffer.from([FrameType.OFFER, 0xff, 0xff, 0xff, 0xff])
    await assert.rejects(frames([huge]), { code: 'FRAME_TOO_LARGE' })
    const big = Buffer.alloc(5); big.writeUInt8(FrameType.OFFER, 0); big.writeUInt32BE(MAX_CONTROL_BYTES + 1, 1)
    await assert.rejects(frames([big]), { code: 'FRAME_TOO_LARGE' })
    const bigData = Buffer.alloc(5); bigData.writeUInt8(FrameType.DATA, 0); bigData.writeUInt32BE(40 + 65537, 1)
    await assert.rejects(frames([bigData]), { code: 'FRAME_TOO_LARGE' })
    await assert.rejects(frames([Buffer.from([99, 0, 0, 0, 0])]), { code: 'BAD_FRAME' })
    await assert.rejects(frames([encodeControl(FrameType.OFFER, { v: 1 }).subarray(0, 8)]), { code: 'TRUNCATED' })
    for (const type of [FrameType.FILE_END, FrameType.ERROR]) {
      const small = Buffer.alloc(5); small.writeUInt8(type, 0); small.writeUInt32BE(MAX_SMALL_CONTROL_BYTES + 1, 1)
      await assert.rejects(frames([small]), { code: 'FRAME_TOO_LARGE' }, `type ${type}`)
    }
  })

  test('offers being read share a budget: the one that would pass it is refused (RECEIVER_BUSY), and finished or failed ones give theirs back', async () => {
    const budget = new ByteBudget(100)
    const offer = (fill: string): Buffer => encodeFrame(FrameType.OFFER, Buffer.from(`{"f":"${fill}"}`)) // 80-byte payload for a 72-character fill
    const reader = (s: PassThrough): Promise<number[]> => (async () => {
      const out: number[] = []
      for await (const f of readFrames(s as unknown as Socket, { chunkSize: () => 65536, offerBudget: budget })) out.push(f.payload.length)
      return out
    })()
    const a = new PassThrough()
    const b = new PassThrough()
    const c = new PassThrough()
    const first = offer('x'.repeat(72))
    const readingA = reader(a)
    a.write(first.subarray(0, 65)) // 60 bytes of its payload
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(budget.inUse, 60)
    const readingB = reader(b)
    b.write(offer('y'.repeat(72)).subarray(0, 55)) // 50 more would make 110
    await assert.rejects(readingB, { code: 'RECEIVER_BUSY' })
    assert.equal(budget.inUse, 60, 'the refused reader holds nothing')
    a.end(Buffer.concat([first.subarray(65), encodeControl(FrameType.STATUS, { s: 'x'.repeat(200) })])) // other frames are not counted
    assert.deepEqual(await readingA, [80, 208])
    assert.equal(budget.inUse, 0)
    const readingC = reader(c)
    c.end(first.subarray(0, 30)) // cut short
    await assert.rejects(readingC, { code: 'TRUNCATED' })
    assert.equal(budget.inUse, 0, 'a reader that failed gives its bytes back')
  })

  test('with an idle limit, a socket silent that long fails with IDLE; the time the reader spends on a frame does not count', async () => {
    const s = new PassThrough()
    let busyDone: () => void = () => {}
    const consumerFree = new Promise<void>((resolve) => { busyDone = resolve })
    const got: number[] = []
    const reading = (async () => {
      for await (const f of readFrames(s as unknown as Socket, { chunkSize: () => 65536, idleMs: () => 1000 })) {
        got.push(f.type)
        if (got.length === 1) {
          // a reader busy (its disk) twice the limit while nothing is sent
          await new Promise((resolve) => setTimeout(resolve, 2000))
          busyDone()
        }
      }
    })()
    s.write(encodeControl(FrameType.STATUS, { n: 1 }))
    await consumerFree
    // well within the limit of the reader's wait, long after the last byte
    await new Promise((resolve) => setTimeout(resolve, 100))
    s.write(encodeControl(FrameType.STATUS, { n: 2 }))
    // then silence, the socket still open: the read fails (a deadline, so a missing limit fails here instead of hanging)
    const deadline = new Promise((_resolve, reject) => { setTimeout(() => { reject(new Error('no IDLE within 10 s')) }, 10_000).unref() })
    await assert.rejects(Promise.race([reading, deadline]), (err: Error & { code?: string }) => err.code === 'IDLE' && /nothing arrived/.test(err.message))
    assert.deepEqual(got, [FrameType.STATUS, FrameType.STATUS], 'the second frame, sent once the reader was free, was read')
  })

  test('offers are validated: version, chunk size, counts, sizes, names', () => {
    const ok = { v: 1, chunkSize: 1 << 20, files: [{ path: 'a.txt', size: 3, mtime: 0 }] }
    assert.equal(parseOffer(ok).files[0].path, 'a.txt')
    assert.throws(() => parseOffer({ ...ok, v: 2 }), { code: 'UNSUPPORTED_VERSION' })
    // nested too deep for JSON.stringify: the version error, not a RangeError the sender would read as a failed store
    assert.throws(() => parseOffer({ ...ok, v: JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) }), { code: 'UNSUPPORTED_VERSION', message: /offer version \(a list\) is not supported/ })
    assert.throws(() => parseOffer({ ...ok, chunkSize: 1 }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, chunkSize: 64 << 20 }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: [] }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: 'x' }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: Array.from({ length: 50_001 }, (_, i) => ({ path: `f${i}`, size: 0, mtime: 0 })) }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: [{ path: 'a', size: -1, mtime: 0 }] }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: [{ path: 'a', size: 2 ** 60, mtime: 0 }] }), { code: 'BAD_MANIFEST' })
    // a terabyte in the smallest chunks: more chunks than a receiver keeps state for; in the sender's 4 MiB chunks, fine
    assert.throws(() => parseOffer({ ...ok, chunkSize: 64 * 1024, files: [{ path: 'a', size: 2 ** 40, mtime: 0 }] }), (err: Error & { code?: string }) => err.code === 'BAD_MANIFEST' && /more than 2097152 chunks in all \(128 GiB in chunks of 64 KiB\)/.test(err.message))
    assert.throws(() => parseOffer({ ...ok, chunkSize: 64 * 1024, files: [{ path: 'a', size: 2 ** 36, mtime: 0 }, { path: 'b', size: 2 ** 36 + 1, mtime: 0 }] }), { code: 'BAD_MANIFEST' })
    assert.equal(parseOffer({ ...ok, chunkSize: 4 << 20, files: [{ path: 'a', size: 2 ** 43, mtime: 0 }] }).files.length, 1)
    assert.throws(() => parseOffer({ ...ok, files: [{ path: 'a', size: '1', mtime: 0 }] }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: [{ path: 'x'.repeat(2000), size: 1, mtime: 0 }] }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: [{ path: '../..', size: 1, mtime: 0 }] }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: [{ path: 'A', size: 1, mtime: 0 }, { path: './a', size: 1, mtime: 0 }] }), { code: 'BAD_MANIFEST' })
    assert.throws(() => parseOffer({ ...ok, files: [{ path: 'd', size: 1, mtime: 0 }, { path: 'd/e', size: 1, mtime: 0 }] }), { code: 'BAD_MANIFEST' })
  })

  test('a file that is also another file\'s directory is found at any depth, in any order, case-insensitively; near names are not mistaken for it', () => {
    const offer = (...paths: string[]): Record<string, unknown> => ({ v: 1, chunkSize: 1 << 20, files: paths.map(path => ({ path, size: 1, mtime: 0 })) })
    const deep = Array.from({ length: 400 }, () => 'a').join('/')
    for (const paths of [['d/a/b', 'x', 'D'], ['a/b/c/d', 'z', 'a/b'], [`${deep}/f1`, `${deep}/f2`, deep], [deep, 'q', `${deep}/f`]]) {
      assert.throws(() => parseOffer(offer(...paths)), (err: Error & { code?: string }) => err.code === 'BAD_MANIFEST' && /is both a file and a directory/.test(err.message), paths.join(', '))
    }
    assert.throws(() => parseOffer(offer('d', 'x/d', 'D/e')), /"d" is both a file and a directory/)
    for (const paths of [['ab', 'a/b'], ['d', 'd-e/f', 'd.txt', 'de/f'], [`${deep}/f1`, `${deep}/f2`, `${deep}x`]]) {
      assert.equal(parseOffer(offer(...paths)).files.length, paths.length, paths.join(', '))
    }
  })

  test('a file used as a directory is found exactly when some path is under another (3,000 random offers against a pairwise check)', () => {
    // components that sort just below and above '/' (' ', '!', '-', '.', '0'), and differ only in case
    const components = ['a', 'A', 'b', 'a-', 'a!', 'a!b', 'ab', 'a a', 'a.b', 'a0', 'B']
    let seed = 7
    const random = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 16) % n }
    const seen = { conflict: 0, clean: 0 }
    for (let i = 0; i < 3000; i++) {
      const byKey = new Map<string, string>()
      for (let n = 2 + random(6); n > 0; n--) {
        const path = Array.from({ length: 1 + random(4) }, () => components[random(components.length)]).join('/')
        byKey.set(path.toLowerCase(), path) // the same name twice is another error, tested above
      }
      const paths = [...byKey.values()]
      const keys = [...byKey.keys()]
      const expected = keys.some(p => keys.some(q => q.startsWith(p + '/')))
      let found = false
      try {
        parseOffer({ v: 1, chunkSize: 1 << 20, files: paths.map(path => ({ path, size: 1, mtime: 0 })) })
      } catch (err) {
        assert.match((err as Error).message, /is both a file and a directory/, paths.join(', '))
        found = true
      }
      assert.equal(found, expected, paths.join(', '))
      seen[found ? 'conflict' : 'clean']++
    }
    assert.ok(seen.conflict > 300 && seen.clean > 300, JSON.stringify(seen))
  })

  test('the largest offers are read in a 128 MiB heap, however their 4 million path components are shaped', () => {
    // paths 490 deep that differ in their first component, or share all but the last: an
    // object per component (as a tree of names once did) took 1 GiB for the first
    const manifest = new URL('../../../src/apps/files/manifest.js', import.meta.url).href
    for (const shape of ['first differs', 'last differs']) {
      const script = `
        import { parseOffer } from ${JSON.stringify(manifest)}
        const files = []
        let bytes = 0
        for (let i = 0; ; i++) {
          const first = ${JSON.stringify(shape)} === 'first differs' ? i.toString(36) : 'a'
          const path = first + '/a'.repeat(489) + '/f' + i
          if (bytes + path.length + 30 > ${MAX_CONTROL_BYTES - 2000}) break
          files.push({ path, size: 1, mtime: 0 }); bytes += path.length + 30
        }
        process.stdout.write(String(parseOffer({ v: 1, chunkSize: 1 << 20, files }).files.length))`
      const r = spawnSync(process.execPath, ['--max-old-space-size=128', '--input-type=module', '-e', script], { encoding: 'utf8' })
      assert.equal(r.status, 0, `${shape}: ${r.stderr.slice(-500)}`)
      assert.ok(Number(r.stdout) > 8000, `${shape}: ${r.stdout}`)
    }
  })

  test('hostile names become safe relative names', () => {
    assert.equal(sanitizePath('../../x'), 'x')
    assert.equal(sanitizePath('/etc/passwd'), 'etc/passwd')
    assert.equal(sanitizePath('a\u0000b'), 'a_b')
    assert.equal(sanitizePath('CON'), '_CON')
    assert.equal(sanitizePath('dir/nul.txt'), 'dir/_nul.txt')
    assert.equal(sanitizePath('C:\\Windows\\evil'), 'C_/Windows/evil')
    assert.equal(sanitizePath('trailing. . '), 'trailing')
    assert.equal(sanitizePath('..'), null)
    assert.equal(sanitizePath('t/...'), 't/___', 'a name of dots alone is kept as underscores, not dropped (its file would become the directory)')
    assert.equal(sanitizePath('t/.. /a'), 't/___/a', 'nor is a directory of dots and spaces, whose files would move up a level')
    assert.equal(sanitizePath(''), null)
    assert.equal(Buffer.byteLength(sanitizePath('é'.repeat(300))!), 254)
    assert.equal(sanitizePath('😀'.repeat(100)), '😀'.repeat(63), 'cut between whole characters: 252 bytes')
    assert.equal(Buffer.byteLength(sanitizePath('\ud800'.repeat(100))!), 255, 'a lone surrogate counts as the 3 bytes it is written as')
    assert.equal(sanitizePath('.'.repeat(1000) + 'x. .'), '.'.repeat(255), 'trailing dots and spaces go, leading ones stay; then the name is cut')
  })

  test('names that need nothing done come back as they are, and every name comes out as the component-by-component rules make it (20,000 random names)', () => {
    // the rules, one component at a time, as sanitizePath applied them before its shortcut for clean names
    const reference = (raw: string): string | null => {
      if (Buffer.byteLength(raw) > 1024) return null
      const parts: string[] = []
      for (let part of raw.split(/[/\\]/)) {
        if (part === '' || part === '.' || part === '..') continue
        const original = part
        part = part.replace(/[\u0000-\u001f\u007f<>:"\\|?*]/g, '_').replace(/[. ]+$/, '').trimStart() // eslint-disable-line no-control-regex
        if (part === '') part = '_'.repeat(Math.min(original.length, 255))
        if (/^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)(\..*)?$/i.test(part)) part = `_${part}`
        let bytes = 0
        let end = 0
        for (const ch of part) {
          const n = Buffer.byteLength(ch)
          if (bytes + n > 255) break
          bytes += n
          end += ch.length
        }
        parts.push(part.slice(0, end))
      }
      return parts.length === 0 ? null : parts.join('/')
    }
    // pieces chosen to hit each rule and the shortcut's edges: separators, dots and spaces at either end,
    // device names, whitespace trimStart removes, characters past ASCII, long runs, forbidden characters
    const pieces = ['/', '/', '\\', '.', '..', ' ', 'a', 'b', 'con', 'CON', 'lpt1', 'com\u00b9', 'nul.txt', 'Aux', 'conin$', 'x', '\u00a0', '\u3000', '\ufeff', '\t',
      'é', '😀', '\ud800', ':', '?', '\u0000', '\u007f', 'p', 'l', 'n', 'abc', '.txt', 'a'.repeat(84), 'a'.repeat(86), 'é'.repeat(90), '-', '_']
    // a 32-bit linear congruential generator, exact in integer arithmetic; its high bits, the low ones cycle shortly
    let seed = 42
    const random = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 16) % n }
    let clean = 0
    for (let i = 0; i < 20_000; i++) {
      let raw = ''
      const count = 1 + random(12)
      for (let j = 0; j < count; j++) raw += pieces[random(pieces.length)]
      const got = sanitizePath(raw)
      assert.equal(got, reference(raw), JSON.stringify(raw))
      if (got === raw) clean++
    }
    assert.ok(clean > 500, `only ${clean} names came back unchanged: the shortcut is barely exercised`)
  })

  test('a taken name is numbered before its extension', () => {
    assert.equal(numberedName('photo.jpg', 1), 'photo (1).jpg')
    assert.equal(numberedName('notes', 2), 'notes (2)')
    assert.equal(numberedName('.bashrc', 1), '.bashrc (1)')
  })
})
