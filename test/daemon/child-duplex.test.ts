import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import type { NetworkNode } from '../../src/network/index.js'
import { pipeSocketStream } from '../../src/session/index.js'
import { childDuplex } from '../../src/daemon/child-duplex.js'
import { createLoopbackPair } from '../helpers/nodes.js'
import { removeTempDirs, tempDir, writeRandomFile } from '../helpers/files.js'
import { waitFor } from '../helpers/wait.js'

const PROTOCOL = '/cspace-test/exec/1.0.0'

/** `cspace expose NAME --exec CMD`: a command's stdio as one end of a tunnel. */
describe('a command as a tunnel end', () => {
  let a: NetworkNode
  let b: NetworkNode
  let command = ''

  before(async () => {
    [a, b] = await createLoopbackPair()
    // a runs `command` per stream, its stdio piped to the stream, as an expose does
    await a.handle(PROTOCOL, (stream: Stream) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'] })
      void pipeSocketStream(childDuplex(child), stream)
    })
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
    removeTempDirs()
  })

  /**
   * Opens a stream to the command and collects its output, pausing after each
   * chunk if `slowReader` (the command's output then backs up behind it);
   * `output` resolves at the command's EOF.
   */
  async function open (slowReader: boolean): Promise<{ stream: Stream, output: Promise<Buffer> }> {
    const stream = await b.dialProtocol(a.getMultiaddrs()[0], PROTOCOL)
    const chunks: Buffer[] = []
    stream.addEventListener('message', (evt) => {
      chunks.push(Buffer.from(evt.data.subarray()))
      if (slowReader && stream.readStatus === 'readable') {
        stream.pause()
        setTimeout(() => { if (stream.readStatus === 'paused') stream.resume() }, 5)
      }
    })
    // 'end', not readStatus: a FIN that arrives after the last chunk was
    // dispatched ends the stream but leaves its readable end "readable" while
    // the local side still has its writable end open (libp2p 3.3)
    let ended = false
    stream.addEventListener('end', () => { ended = true })
    const output = waitFor('the command\'s output, then EOF', () => ended || stream.readStatus === 'closed', 60_000, 20).then(() => Buffer.concat(chunks))
    return { stream, output }
  }

  test('a command that exits without reading its input (`cat FILE`) still delivers every byte to a slow reader', async () => {
    const file = join(tempDir(), 'out.bin')
    const sha = writeRandomFile(file, 8 * 1024 * 1024)
    command = `cat ${file}`
    // stdin stays open and unread while cat exits with output still queued
    const { stream, output } = await open(true)
    const got = await output
    assert.equal(got.length, 8 * 1024 * 1024)
    assert.equal(createHash('sha256').update(got).digest('hex'), sha)
    assert.notEqual(stream.status, 'reset', 'the stream ended cleanly, not reset')
  })

  test('32 MiB into a command that reads slowly (`sha256sum`): no stall, and its answer comes back', async () => {
    command = 'sha256sum'
    const input = randomBytes(32 * 1024 * 1024)
    const { stream, output } = await open(false)
    // as a tunnel's writer does (session/pipe.ts): a piece at a time, waiting
    // while the stream's queue is long. A stream holds 8 MiB unsent at most, and
    // 'drain' comes to every stream when the connection drains, so neither one
    // 32 MiB send nor waiting for 'drain' keeps under that
    for (let at = 0; at < input.length; at += 64 * 1024) {
      stream.send(input.subarray(at, at + 64 * 1024))
      await waitFor('room in the stream\'s queue', () => stream.writeBufferLength <= 1 << 20 || stream.status !== 'open', 60_000, 5)
    }
    await stream.close()
    const answer = await output
    assert.equal(answer.toString().split(/\s+/)[0], createHash('sha256').update(input).digest('hex'))
  })
})
