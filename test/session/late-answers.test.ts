import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingRequest } from '../../src/session/index.js'
import { ConnectStatus, ServiceRefused } from '../../src/session/index.js'
import { echoOnce, startEchoPair, type EchoPair } from '../helpers/sessions.js'
import { waitFor } from '../helpers/wait.js'

const ACCEPT_TIMEOUT_MS = 400

/**
 * The callee answers a request late (its service's accept timeout, a
 * service's own reject) after the caller has already reset the stream:
 * nothing is sent, and the process goes on. libp2p's send throws on a closed
 * stream, and from a timer that would have ended the daemon (this test's
 * process, here).
 */
describe('answers to a caller who has gone', () => {
  let pair: EchoPair
  const waiting: IncomingRequest[] = []
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })

  before(async () => {
    pair = await startEchoPair({ bobInit: { acceptTimeoutMs: ACCEPT_TIMEOUT_MS } })
    // a service that neither accepts nor rejects until the test lets it go
    pair.bobServices.register('slow', async (request) => { waiting.push(request); await released }, 'a test')
    await pair.alice.dial(pair.bob.getMultiaddrs()[0])
  })

  after(async () => {
    release()
    await pair?.stop()
  })

  /** One echo round trip: bob has handled every frame alice sent before it (yamux keeps them in order). */
  async function roundTrip (): Promise<void> {
    assert.equal(await echoOnce(pair, 'ping'), 'ping')
  }

  test('the accept timeout and a late reject, after the caller reset the stream', async () => {
    const gone = await pair.aliceSessions.connectEarly(pair.bobId, 'slow')
    gone.accepted.catch(() => {}) // aborted below
    await waitFor('bob\'s service holding the request', () => waiting.length === 1, 5000, 10)
    gone.stream.abort(new Error('the caller gave up'))
    await roundTrip() // bob has the reset

    // a second request, left to the timeout: when its answer is back, the
    // first one's timer (started earlier, same length) has fired too
    await assert.rejects(pair.aliceSessions.connect(pair.bobId, 'slow'), (err: Error) =>
      err instanceof ServiceRefused && /did not answer/.test(err.message))
    waiting[0].reject(ConnectStatus.ServiceUnreachable, 'too late') // and the service's own late answer

    await roundTrip() // bob still serves
  })
})
