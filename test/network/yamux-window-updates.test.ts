import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Uint8ArrayList } from 'uint8arraylist'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import type { FrameHeader } from '@libp2p/yamux'
import { sendWindowUpdatesAtHalfWindow } from '../../src/network/yamux-window-updates.js'
import { componentLogger } from '../../src/util/log.js'

// yamux spec: frame types and flags
const DATA = 0
const WINDOW_UPDATE = 1
const ACK = 0x2
const WINDOW = 256 * 1024

sendWindowUpdatesAtHalfWindow()

/** A yamux stream whose outgoing frames are recorded, fed data frames of `size` bytes. */
function recordedStream (state: StreamState): { stream: YamuxStream, sent: FrameHeader[], receive: (size: number) => void } {
  const sent: FrameHeader[] = []
  const stream = new YamuxStream({
    id: '1',
    streamId: 1,
    state,
    direction: 'inbound',
    log: componentLogger('test:yamux'),
    getRTT: () => -1,
    sendFrame: (header) => { sent.push(header); return true }
  })
  const receive = (size: number): void => {
    stream.handleData({ header: { type: DATA, flag: 0, streamID: 1, length: size, version: 0 } as unknown as FrameHeader, data: new Uint8ArrayList(new Uint8Array(size)) })
  }
  return { stream, sent, receive }
}

describe('yamux window updates', () => {
  test('small frames get no window update until half the window is used', () => {
    const { sent, receive } = recordedStream(StreamState.Established)
    for (let i = 0; i < 127; i++) receive(1024)
    assert.equal(sent.length, 0, 'no update for 127 KiB of a 256 KiB window')
    receive(1024)
    assert.equal(sent.length, 1)
    assert.equal(sent[0].type, WINDOW_UPDATE)
    assert.equal(sent[0].length, WINDOW / 2, 'the update gives back what was used')
  })

  test('a sender that used the whole window is granted it back at once', () => {
    const { sent, receive } = recordedStream(StreamState.Established)
    receive(WINDOW)
    assert.equal(sent.length, 1)
    assert.equal(sent[0].length, WINDOW)
    receive(10)
    assert.equal(sent.length, 1, 'the next small frame waits again')
  })

  test('the first frame of an incoming stream is still acknowledged at once', () => {
    const { sent, receive } = recordedStream(StreamState.SYNReceived)
    receive(6)
    assert.equal(sent.length, 1)
    assert.equal(sent[0].flag & ACK, ACK)
  })

  test('installing twice wraps once', () => {
    sendWindowUpdatesAtHalfWindow()
    const { sent, receive } = recordedStream(StreamState.Established)
    receive(WINDOW / 2)
    assert.equal(sent.length, 1)
  })
})
