import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { PromptQueue, type PromptRequest, type PromptSettled } from '../../src/session/prompts.js'
import { PromptNotFound } from '../../src/session/errors.js'
import { CspaceError } from '../../src/errors.js'

const caller = { peerId: 'p', userId: 'cs1x', fingerprint: '0', contactName: 'bob' }

/** Records both events in order. */
function record (q: PromptQueue): { prompts: PromptRequest[], settled: PromptSettled[] } {
  const seen = { prompts: [] as PromptRequest[], settled: [] as PromptSettled[] }
  q.addEventListener('prompt', (e) => seen.prompts.push((e as CustomEvent<PromptRequest>).detail))
  q.addEventListener('prompt-settled', (e) => seen.settled.push((e as CustomEvent<PromptSettled>).detail))
  return seen
}

describe('PromptQueue', () => {
  test('an allow answer settles the request, with both events', async () => {
    let clock = 1_000
    const q = new PromptQueue({ now: () => clock })
    const seen = record(q)
    const p = q.ask({ service: 'desktop', caller })
    const [req] = q.list()
    assert.match(req.id, /^[0-9a-f]{8}$/)
    assert.equal(req.service, 'desktop')
    assert.deepEqual(req.caller, caller)
    assert.equal(req.createdAt, 1_000)
    assert.equal(req.expiresAt, 61_000)
    assert.deepEqual(seen.prompts, [req])
    assert.deepEqual(seen.settled, [])
    clock += 10
    assert.equal(q.answer(req.id, 'allow'), req)
    assert.equal(await p, 'allow')
    assert.deepEqual(seen.settled, [{ request: req, decision: 'allow' }])
    assert.deepEqual(q.list(), [])
  })

  test('a deny answer settles only that request', async () => {
    const q = new PromptQueue()
    const a = q.ask({ service: 'chat', caller })
    const b = q.ask({ service: 'desktop', caller })
    const [ra, rb] = q.list()
    assert.notEqual(ra.id, rb.id)
    q.answer(rb.id, 'deny')
    assert.equal(await b, 'deny')
    assert.deepEqual(q.list(), [ra])
    q.answer(ra.id, 'allow')
    assert.equal(await a, 'allow')
  })

  test('unknown and already-answered ids throw PromptNotFound', async () => {
    const q = new PromptQueue()
    assert.throws(() => q.answer('deadbeef', 'allow'), (err: unknown) => {
      assert.ok(err instanceof PromptNotFound)
      assert.ok(err instanceof CspaceError)
      assert.equal(err.code, 'PROMPT_NOT_FOUND')
      assert.equal(err.message, 'no pending request deadbeef; see `cspace requests`')
      return true
    })
    const p = q.ask({ service: 'chat', caller })
    const [req] = q.list()
    q.answer(req.id, 'allow')
    assert.throws(() => q.answer(req.id, 'deny'), PromptNotFound)
    assert.equal(await p, 'allow')
  })

  test('unanswered requests end as unanswered when they expire (not as a "no")', async () => {
    const q = new PromptQueue({ timeoutMs: 50 })
    const seen = record(q)
    const started = Date.now()
    const p = q.ask({ service: 'chat', caller })
    const [req] = q.list()
    assert.equal(await p, 'unanswered')
    assert.ok(Date.now() - started >= 40, 'not before its time')
    assert.deepEqual(q.list(), [])
    assert.deepEqual(seen.settled, [{ request: req, decision: 'unanswered' }])
    assert.throws(() => q.answer(req.id, 'allow'), PromptNotFound)
  })

  test('an answer after expiresAt is too late even if the timer has not run yet', async () => {
    let clock = 0
    const q = new PromptQueue({ timeoutMs: 60_000, now: () => clock })
    const p = q.ask({ service: 'chat', caller })
    const [req] = q.list()
    clock = req.expiresAt
    assert.throws(() => q.answer(req.id, 'allow'), PromptNotFound)
    assert.equal(await p, 'unanswered')
    assert.deepEqual(q.list(), [])
  })

  test('a caller who goes away is removed, unanswered', async () => {
    const q = new PromptQueue()
    const seen = record(q)
    const gone = new AbortController()
    const a = q.ask({ service: 'chat', caller }, gone.signal)
    const stays = q.ask({ service: 'desktop', caller })
    assert.equal(q.list().length, 2)
    const [ra, rb] = q.list()
    gone.abort()
    assert.equal(await a, 'unanswered')
    assert.deepEqual(q.list(), [rb])
    assert.deepEqual(seen.settled, [{ request: ra, decision: 'unanswered' }])
    assert.throws(() => q.answer(ra.id, 'allow'), PromptNotFound)
    // an already-aborted signal never parks a request
    assert.equal(await q.ask({ service: 'chat', caller }, AbortSignal.abort()), 'unanswered')
    assert.equal(seen.prompts.length, 2)
    q.answer(rb.id, 'allow')
    assert.equal(await stays, 'allow')
  })

  test('a full queue ends new requests at once, unanswered, without parking them', async () => {
    const q = new PromptQueue({ maxPending: 2 })
    const seen = record(q)
    const a = q.ask({ service: 'chat', caller })
    const b = q.ask({ service: 'chat', caller })
    assert.equal(await q.ask({ service: 'chat', caller }), 'unanswered')
    assert.equal(q.list().length, 2)
    assert.equal(seen.prompts.length, 2)
    // room again once one is answered
    q.answer(q.list()[0].id, 'allow')
    assert.equal(await a, 'allow')
    const c = q.ask({ service: 'chat', caller })
    assert.equal(q.list().length, 2)
    q.close()
    assert.deepEqual(await Promise.all([b, c]), ['unanswered', 'unanswered'])
  })

  test('one caller may have only a few questions pending, and strangers only part of the queue', async () => {
    const q = new PromptQueue({ maxPending: 6, maxPendingPerCaller: 2 })
    const stranger = (n: number): PromptRequest['caller'] => ({ peerId: `s${n}`, userId: `cs1s${n}`, fingerprint: String(n) })
    const asked = [q.ask({ service: 'chat', caller: stranger(1) }), q.ask({ service: 'chat', caller: stranger(1) })]
    assert.equal(await q.ask({ service: 'chat', caller: stranger(1) }), 'unanswered', 'a third from the same key')
    asked.push(q.ask({ service: 'chat', caller: stranger(2) }))
    assert.equal(await q.ask({ service: 'chat', caller: stranger(3) }), 'unanswered', 'strangers hold half the queue (3 of 6)')
    // a contact's question still finds room, up to the whole queue
    asked.push(q.ask({ service: 'desktop', caller }), q.ask({ service: 'files', caller: { ...caller, peerId: 'q', contactName: 'carol' } }))
    assert.equal(q.list().length, 5)
    assert.deepEqual(q.list().map(r => r.caller.peerId), ['s1', 's1', 's2', 'p', 'q'])
    // answering frees the caller's share
    q.answer(q.list()[0].id, 'deny')
    asked.push(q.ask({ service: 'chat', caller: stranger(1) }))
    assert.equal(q.list().length, 5)
    q.close()
    assert.deepEqual(await Promise.all(asked), ['deny', 'unanswered', 'unanswered', 'unanswered', 'unanswered', 'unanswered'], 'the first was answered "no"')
  })

  test('close ends everything pending, unanswered, and refuses new requests', async () => {
    const q = new PromptQueue()
    const seen = record(q)
    const pending = [q.ask({ service: 'chat', caller }), q.ask({ service: 'desktop', caller })]
    q.close()
    assert.deepEqual(await Promise.all(pending), ['unanswered', 'unanswered'])
    assert.deepEqual(seen.settled.map(s => s.decision), ['unanswered', 'unanswered'])
    assert.deepEqual(q.list(), [])
    assert.equal(await q.ask({ service: 'chat', caller }), 'unanswered')
    assert.equal(seen.prompts.length, 2)
  })

  test('a listener may answer synchronously from the prompt event', async () => {
    const q = new PromptQueue()
    q.addEventListener('prompt', (e) => q.answer((e as CustomEvent<PromptRequest>).detail.id, 'allow'))
    assert.equal(await q.ask({ service: 'chat', caller }), 'allow')
    assert.deepEqual(q.list(), [])
  })

  test('a pending request does not keep the process alive', async () => {
    // The child parks a 60 s request and ends its script; it must exit at once.
    const mod = new URL('../../src/session/prompts.js', import.meta.url).href
    const script = `const { PromptQueue } = await import(${JSON.stringify(mod)})
new PromptQueue().ask({ service: 'chat', caller: { peerId: 'p', userId: 'u', fingerprint: 'f' } }).then(d => console.log(d))`
    const started = Date.now()
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 })
    assert.equal(stdout, '')
    assert.ok(Date.now() - started < 20_000)
  })
})
