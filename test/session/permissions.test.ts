import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decide, formatRule, parseRule, PromptQueue, validateServiceName, InvalidRule, InvalidServiceName, PromptNotFound, type Rule } from '../../src/session/index.js'

const contact = { contactName: 'Bob' }
const stranger = {}

describe('permission rules', () => {
  test('built-in defaults: contacts everything but desktop (prompt); strangers only chat (prompt)', () => {
    assert.equal(decide([], contact, 'ssh').action, 'allow')
    assert.equal(decide([], contact, 'desktop').action, 'prompt')
    assert.equal(decide([], stranger, 'chat').action, 'prompt')
    assert.equal(decide([], stranger, 'ssh').action, 'deny')
    assert.equal(decide([], stranger, 'desktop').action, 'deny')
  })

  test('user rules first, first match wins, contact names case-insensitive', () => {
    const rules: Rule[] = [parseRule('deny', 'bob', '*'), parseRule('allow', 'contacts', 'ssh'), parseRule('allow', 'anyone', 'web')]
    const d = decide(rules, contact, 'ssh')
    assert.equal(d.action, 'deny')
    assert.equal(d.builtIn, false)
    assert.equal(decide(rules, { contactName: 'alice' }, 'ssh').action, 'allow')
    assert.equal(decide(rules, stranger, 'web').action, 'allow')
    assert.equal(decide(rules, stranger, 'ssh').action, 'deny')
    assert.equal(decide(rules, { contactName: 'alice' }, 'desktop').builtIn, true)
  })

  test('parse and format round trip; bad rules and service names refused', () => {
    for (const text of ['allow bob ssh', 'prompt contacts desktop', 'deny anyone *']) {
      const [a, w, s] = text.split(' ')
      assert.equal(formatRule(parseRule(a, w, s)), text)
    }
    assert.throws(() => parseRule('maybe', 'bob', 'ssh'), InvalidRule)
    assert.throws(() => parseRule('allow', '', 'ssh'), InvalidRule)
    assert.throws(() => parseRule('allow', 'bob', 'S S H'), InvalidRule)
    for (const bad of ['', 'SSH', '-x', 'a b', 'x'.repeat(65), '*', 'ssh\n']) assert.throws(() => validateServiceName(bad), InvalidServiceName, JSON.stringify(bad))
    assert.equal(validateServiceName('vnc-5900.x_y'), 'vnc-5900.x_y')
  })
})

describe('PromptQueue', () => {
  const caller = { peerId: 'p', userId: 'cs1x', fingerprint: '0', contactName: 'bob' }

  test('an answer settles the request, with events', async () => {
    const q = new PromptQueue()
    const seen: string[] = []
    q.addEventListener('prompt', () => seen.push('prompt'))
    q.addEventListener('prompt-settled', (e) => seen.push(`settled:${(e as CustomEvent).detail.decision}`))
    const p = q.ask({ service: 'desktop', caller })
    const [req] = q.list()
    assert.equal(req.service, 'desktop')
    assert.equal(req.expiresAt - req.createdAt, 60_000)
    q.answer(req.id, 'allow')
    assert.equal(await p, 'allow')
    assert.deepEqual(seen, ['prompt', 'settled:allow'])
    assert.throws(() => q.answer(req.id, 'deny'), PromptNotFound)
  })

  test('unanswered requests are denied when they expire', async () => {
    const q = new PromptQueue({ timeoutMs: 30 })
    assert.equal(await q.ask({ service: 'chat', caller }), 'deny')
    assert.equal(q.list().length, 0)
  })

  test('a caller who goes away is dropped; a full queue denies at once; close denies all', async () => {
    const q = new PromptQueue({ maxPending: 2 })
    const gone = new AbortController()
    const a = q.ask({ service: 'chat', caller }, gone.signal)
    gone.abort()
    assert.equal(await a, 'deny')
    const b = q.ask({ service: 'chat', caller })
    const c = q.ask({ service: 'chat', caller })
    assert.equal(await q.ask({ service: 'chat', caller }), 'deny')
    assert.equal(q.list().length, 2)
    q.close()
    assert.deepEqual(await Promise.all([b, c]), ['deny', 'deny'])
  })
})
