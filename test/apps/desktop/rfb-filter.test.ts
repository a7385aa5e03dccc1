import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_CUT_TEXT, MAX_ENCODINGS, MAX_PENDING, RfbViewOnlyFilter, type FilterOutput } from '../../../src/apps/desktop/index.js'
import { clientCutText, fbUpdateRequest, keyEvent, pointerEvent } from '../../helpers/xvfb.js'

const V38 = Buffer.from('RFB 003.008\n')
const V37 = Buffer.from('RFB 003.007\n')
const V33 = Buffer.from('RFB 003.003\n')
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b }
const serverInit = Buffer.concat([Buffer.from([0x03, 0x20, 0x02, 0x58]), Buffer.alloc(16, 7), u32(4), Buffer.from('test')])
const setPixelFormat = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.alloc(16, 9)])
function setEncodings (encodings: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * encodings.length)
  b[0] = 2
  b.writeUInt16BE(encodings.length, 2)
  encodings.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i))
  return b
}

/** Collected output of a run, with the first close reason. */
class Run {
  readonly f = new RfbViewOnlyFilter()
  toServer: Buffer[] = []
  toClient: Buffer[] = []
  close: string | undefined
  private take (o: FilterOutput): this {
    this.toServer.push(...o.toServer)
    this.toClient.push(...o.toClient)
    this.close ??= o.close
    return this
  }

  server (b: Buffer): this { return this.take(this.f.fromServer(b)) }
  client (b: Buffer): this { return this.take(this.f.fromClient(b)) }
  get sent (): Buffer { return Buffer.concat(this.toServer) }
  get received (): Buffer { return Buffer.concat(this.toClient) }
}

// a 3.8 session with security None: the server's and the viewer's bytes
const serverHello = Buffer.concat([V38, Buffer.from([2, 1, 2]), u32(0), serverInit])
const viewerMessages = Buffer.concat([
  setPixelFormat,
  setEncodings([0, 1, -223, -313, -312, -258, 0xc0a1e5ce | 0, 7]),
  fbUpdateRequest(800, 600),
  keyEvent(0x61, true), keyEvent(0x61, false),
  pointerEvent(10, 20, 1),
  clientCutText('secret clipboard'),
  fbUpdateRequest(800, 600)
])
const viewerBytes = Buffer.concat([V38, Buffer.from([1]), Buffer.from([1]), viewerMessages])
// what the server may see: input dropped, extension pseudo-encodings struck
const expectedAtServer = Buffer.concat([V38, Buffer.from([1]), Buffer.from([1]), setPixelFormat, setEncodings([0, 1, -223, 7]), fbUpdateRequest(800, 600), fbUpdateRequest(800, 600)])

describe('desktop: RFB view-only filter', () => {
  test('a whole session: requests pass, input is dropped, extension encodings are struck', () => {
    const r = new Run().server(serverHello).client(viewerBytes)
    assert.equal(r.close, undefined)
    assert.deepEqual(r.sent, expectedAtServer)
    assert.deepEqual(r.received, serverHello)
    assert.equal(r.f.dropped, 4)
  })

  test('the viewer\'s stream split at every byte boundary gives the same result', () => {
    for (let k = 0; k <= viewerBytes.length; k++) {
      const r = new Run().server(serverHello).client(viewerBytes.subarray(0, k)).client(viewerBytes.subarray(k))
      assert.equal(r.close, undefined, `split at ${k}`)
      assert.deepEqual(r.sent, expectedAtServer, `split at ${k}`)
    }
  })

  test('the server\'s handshake split at every byte boundary gives the same result', () => {
    for (let k = 0; k <= serverHello.length; k++) {
      const r = new Run().server(serverHello.subarray(0, k)).client(viewerBytes).server(serverHello.subarray(k))
      assert.equal(r.close, undefined, `split at ${k}`)
      assert.deepEqual(r.sent, expectedAtServer, `split at ${k}`)
      assert.deepEqual(r.received, serverHello, `split at ${k}`)
    }
  })

  test('byte by byte in both directions, interleaved', () => {
    const r = new Run()
    for (let i = 0; i < Math.max(serverHello.length, viewerBytes.length); i++) {
      if (i < serverHello.length) r.server(serverHello.subarray(i, i + 1))
      if (i < viewerBytes.length) r.client(viewerBytes.subarray(i, i + 1))
    }
    assert.equal(r.close, undefined)
    assert.deepEqual(r.sent, expectedAtServer)
    assert.deepEqual(r.received, serverHello)
  })

  test('a truncated message is held back until it is complete', () => {
    const r = new Run().server(serverHello).client(Buffer.concat([V38, Buffer.from([1, 1])]))
    const before = r.sent.length
    const req = fbUpdateRequest(1, 1)
    r.client(req.subarray(0, 9))
    assert.equal(r.sent.length, before)
    r.client(req.subarray(9))
    assert.deepEqual(r.sent.subarray(before), req)
    // a clipboard message cut inside its text: the rest is skipped, the next message parsed
    const cut = clientCutText('x'.repeat(1000))
    r.client(cut.subarray(0, 500)).client(cut.subarray(500)).client(req)
    assert.equal(r.close, undefined)
    assert.deepEqual(r.sent.subarray(before), Buffer.concat([req, req]))
  })

  test('the security list is rewritten to the types the filter can parse', () => {
    // (the list's format depends on the viewer's version, so it waits for it)
    const r = new Run().server(Buffer.concat([V38, Buffer.from([4, 16, 2, 19, 1])])).client(V38)
    assert.deepEqual(r.received, Buffer.concat([V38, Buffer.from([2, 2, 1])]))
    // the viewer may not pick a type that was struck
    r.client(Buffer.from([16]))
    assert.match(r.close ?? '', /security type 16, which was not offered/)
    assert.deepEqual(r.sent, V38)
  })

  test('no parseable security type: the viewer gets a failure reason and the session ends', () => {
    const r = new Run().server(Buffer.concat([V38])).client(V38).server(Buffer.from([2, 16, 19]))
    assert.match(r.close ?? '', /no security type the view-only filter can check \(offered: 16, 19\)/)
    const got = r.received.subarray(12)
    assert.equal(got[0], 0) // zero types: failure
    assert.match(got.subarray(5, 5 + got.readUInt32BE(1)).toString(), /view-only filter cannot check/)
  })

  test('VNC authentication: the 16-byte response passes, then ClientInit and messages', () => {
    const challenge = Buffer.alloc(16, 0xaa)
    const response = Buffer.alloc(16, 0x55)
    const r = new Run().server(Buffer.concat([V38, Buffer.from([1, 2])])).client(V38).client(Buffer.from([2]))
      .server(challenge).client(response.subarray(0, 7)).client(response.subarray(7)).server(u32(0)).client(Buffer.from([0])).server(serverInit)
      .client(Buffer.concat([keyEvent(1, true), fbUpdateRequest(5, 5)]))
    assert.equal(r.close, undefined)
    assert.deepEqual(r.sent, Buffer.concat([V38, Buffer.from([2]), response, Buffer.from([0]), fbUpdateRequest(5, 5)]))
    assert.deepEqual(r.received, Buffer.concat([V38, Buffer.from([1, 2]), challenge, u32(0), serverInit]))
  })

  test('RFB 3.7 and 3.3: the client stream is parsed by the negotiated version', () => {
    const r37 = new Run().server(Buffer.concat([V38, Buffer.from([1, 1])])).client(Buffer.concat([V37, Buffer.from([1, 1]), keyEvent(1, true), fbUpdateRequest(2, 2)]))
    assert.equal(r37.close, undefined)
    assert.deepEqual(r37.sent, Buffer.concat([V37, Buffer.from([1, 1]), fbUpdateRequest(2, 2)]))
    // 3.3: the server picks the type; with VNC auth the client answers 16 bytes
    const viewer33 = Buffer.concat([V33, Buffer.alloc(16, 3), Buffer.from([1]), pointerEvent(1, 1, 1), fbUpdateRequest(3, 3)])
    const r33 = new Run().server(V38).client(viewer33).server(Buffer.concat([u32(2), Buffer.alloc(16)]))
    assert.equal(r33.close, undefined)
    assert.deepEqual(r33.sent, Buffer.concat([V33, Buffer.alloc(16, 3), Buffer.from([1]), fbUpdateRequest(3, 3)]))
    // 3.3 with a type the filter cannot parse: a failure the viewer can show
    const bad = new Run().server(V38).client(V33).server(u32(16))
    assert.match(bad.close ?? '', /security type 16/)
    assert.deepEqual(bad.received.subarray(12, 16), u32(0))
  })

  test('unknown or extension client messages close the session; nothing after them passes', () => {
    for (const type of [1, 7, 150, 248, 250, 251, 255]) {
      const r = new Run().server(serverHello).client(Buffer.concat([V38, Buffer.from([1, 1, type]), Buffer.alloc(40), fbUpdateRequest(1, 1)]))
      assert.match(r.close ?? '', new RegExp(`message type ${type}`), `type ${type}`)
      assert.deepEqual(r.sent, Buffer.concat([V38, Buffer.from([1, 1])]), `type ${type}`)
      // and stays closed
      assert.equal(r.f.fromClient(fbUpdateRequest(1, 1)).toServer.length, 0)
      assert.ok(r.f.fromServer(Buffer.from('more')).close != null)
    }
  })

  test('oversized lengths close the session without waiting for the bytes', () => {
    const head = Buffer.concat([V38, Buffer.from([1, 1])])
    const enc = Buffer.from([2, 0, 0, 0]); enc.writeUInt16BE(MAX_ENCODINGS + 1, 2)
    assert.match(new Run().server(serverHello).client(Buffer.concat([head, enc])).close ?? '', /SetEncodings with 1025 encodings/)
    const cut = Buffer.from([6, 0, 0, 0, 0, 0, 0, 0]); cut.writeUInt32BE(MAX_CUT_TEXT + 1, 4)
    assert.match(new Run().server(serverHello).client(Buffer.concat([head, cut])).close ?? '', /ClientCutText of 1048577 bytes/)
    // the extended-clipboard form (a negative length) is oversized too
    const ext = Buffer.from([6, 0, 0, 0, 0x80, 0, 0, 0x10])
    assert.match(new Run().server(serverHello).client(Buffer.concat([head, ext])).close ?? '', /ClientCutText/)
    // a viewer that floods before the handshake allows it to speak
    assert.match(new Run().client(Buffer.alloc(MAX_PENDING + 1)).close ?? '', /beyond the limit/)
    // a server that never finishes its security list while the viewer floods
    assert.match(new Run().server(Buffer.concat([V38, Buffer.from([200])])).client(V38).client(Buffer.alloc(MAX_PENDING + 1)).close ?? '', /beyond the limit/)
  })

  test('malformed versions close the session', () => {
    assert.match(new Run().server(Buffer.from('HTTP/1.1 200\r\n')).close ?? '', /did not send an RFB 3.x version/)
    assert.match(new Run().server(Buffer.from('RFB 004.000\n')).close ?? '', /did not send an RFB 3.x version/)
    for (const v of ['RFB 003.005\n', 'RFB 003.889\n', 'RFB 03.008\n\n', 'GET / HTTP/1.\n', 'RFB 003.008\r']) {
      assert.match(new Run().server(V38).client(Buffer.from(v)).close ?? '', /did not send RFB version/, v)
    }
    assert.match(new Run().server(V33).client(V38).close ?? '', /above the server's 3.3/)
  })

  test('after the handshake the server\'s bytes pass unchanged', () => {
    const r = new Run().server(serverHello).client(viewerBytes)
    const update = Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0xff, 0xfe, 0xfd, 0xfc])
    r.server(update)
    assert.deepEqual(r.received, Buffer.concat([serverHello, update]))
  })
})
