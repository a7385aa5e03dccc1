import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BUILT_IN_RULES, decide, formatRule, parseRule, validateServiceName, type Rule } from '../../src/session/permissions.js'
import { InvalidRule, InvalidServiceName } from '../../src/session/errors.js'
import { UsageError } from '../../src/errors.js'

const bob = { contactName: 'Bob' }
const alice = { contactName: 'alice' }
const stranger = {}

function rules (...texts: string[]): Rule[] {
  return texts.map(t => {
    const [a, w, s] = t.split(' ')
    return parseRule(a, w, s)
  })
}

describe('permission rules', () => {
  test('built-in defaults: contacts everything but desktop (prompt); strangers only chat (prompt)', () => {
    assert.equal(decide([], bob, 'ssh').action, 'allow')
    assert.equal(decide([], bob, 'chat').action, 'allow')
    assert.equal(decide([], bob, 'desktop').action, 'prompt')
    assert.equal(decide([], stranger, 'chat').action, 'prompt')
    assert.equal(decide([], stranger, 'ssh').action, 'deny')
    assert.equal(decide([], stranger, 'desktop').action, 'deny')
    const d = decide([], stranger, 'ssh')
    assert.equal(d.builtIn, true)
    assert.equal(d.rule, BUILT_IN_RULES[BUILT_IN_RULES.length - 1])
    assert.ok(Object.isFrozen(BUILT_IN_RULES))
  })

  test('the first matching user rule wins', () => {
    const list = rules('allow bob desktop', 'deny bob desktop', 'deny contacts ssh', 'allow bob ssh')
    const d = decide(list, bob, 'desktop')
    assert.equal(d.action, 'allow')
    assert.equal(d.rule, list[0])
    assert.equal(d.builtIn, false)
    // 'deny contacts ssh' comes before 'allow bob ssh'
    assert.equal(decide(list, bob, 'ssh').rule, list[2])
    assert.equal(decide(list, bob, 'ssh').action, 'deny')
  })

  test('user rules are checked before the built-ins', () => {
    const denyBob = rules('deny bob *')
    assert.equal(decide(denyBob, bob, 'ssh').action, 'deny')
    assert.equal(decide(denyBob, bob, 'ssh').builtIn, false)
    assert.equal(decide(denyBob, alice, 'ssh').action, 'allow')
    assert.equal(decide(denyBob, alice, 'ssh').builtIn, true)

    const openSsh = rules('allow anyone ssh')
    assert.equal(decide(openSsh, stranger, 'ssh').action, 'allow')
    assert.equal(decide(openSsh, stranger, 'web').action, 'deny')

    const trustDesktop = rules('allow contacts desktop')
    assert.equal(decide(trustDesktop, alice, 'desktop').action, 'allow')
    // a 'contacts' rule never matches a stranger
    assert.equal(decide(trustDesktop, stranger, 'desktop').action, 'deny')
  })

  test('a contact rule matches only that contact, by case- and normalisation-insensitive name', () => {
    const list = rules('allow BOB desktop', 'allow Jos\u00e9 desktop')
    assert.equal(decide(list, { contactName: 'bob' }, 'desktop').action, 'allow')
    assert.equal(decide(list, { contactName: 'Bob' }, 'desktop').builtIn, false)
    assert.equal(decide(list, { contactName: 'bobby' }, 'desktop').action, 'prompt')
    assert.equal(decide(list, stranger, 'desktop').action, 'deny')
    // 'e' + combining acute (NFD) is the same name as precomposed 'é' (NFC)
    assert.equal(decide(list, { contactName: 'JOSE\u0301' }, 'desktop').action, 'allow')
  })

  test('service "*" matches every service; a named one only itself', () => {
    const list = rules('deny alice web', 'prompt alice *')
    assert.equal(decide(list, alice, 'web').action, 'deny')
    assert.equal(decide(list, alice, 'webx').action, 'prompt')
    assert.equal(decide(list, alice, 'ssh').action, 'prompt')
  })

  test('parse and format round trip', () => {
    for (const text of ['allow bob ssh', 'prompt contacts desktop', 'deny anyone *', 'allow Zoë-2 vnc.5900']) {
      const [a, w, s] = text.split(' ')
      assert.equal(formatRule(parseRule(a, w, s)), text)
    }
    assert.deepEqual(parseRule('deny', 'anyone', '*'), { action: 'deny', who: { kind: 'anyone' }, service: '*' })
    assert.deepEqual(parseRule('prompt', 'contacts', 'chat'), { action: 'prompt', who: { kind: 'contacts' }, service: 'chat' })
    assert.deepEqual(parseRule('allow', 'bob', 'ssh'), { action: 'allow', who: { kind: 'contact', name: 'bob' }, service: 'ssh' })
    assert.equal(formatRule(BUILT_IN_RULES[0]), 'prompt contacts desktop')
  })

  test('bad rules are refused with a usage error that shows the accepted form', () => {
    const bad: Array<[string, string, string]> = [
      ['maybe', 'bob', 'ssh'], ['Allow', 'bob', 'ssh'], ['', 'bob', 'ssh'],
      ['allow', '', 'ssh'], ['allow', 'bob smith', 'ssh'], ['allow', 'x'.repeat(65), 'ssh'],
      ['allow', 'bob', 'S S H'], ['allow', 'bob', 'SSH'], ['allow', 'bob', ''], ['allow', 'bob', '**'],
      ['allow', 'Anyone', 'ssh'], ['allow', 'CONTACTS', 'ssh'] // neither a group (those are lower-case) nor a contact's name
    ]
    for (const [a, w, s] of bad) {
      assert.throws(() => parseRule(a, w, s), (err: unknown) => {
        assert.ok(err instanceof InvalidRule)
        assert.ok(err instanceof UsageError)
        assert.equal(err.code, 'INVALID_RULE')
        assert.equal(err.exitCode, 2)
        assert.doesNotMatch(err.message, /\n/)
        assert.match(err.message, /ACTION WHO SERVICE/)
        return true
      }, JSON.stringify([a, w, s]))
    }
    // values from an untyped API body
    assert.throws(() => parseRule(undefined as unknown as string, 'bob', 'ssh'), InvalidRule)
    assert.throws(() => parseRule('allow', undefined as unknown as string, 'ssh'), InvalidRule)
    assert.throws(() => parseRule('allow', 'bob', 7 as unknown as string), InvalidRule)
  })

  test('service names: 1-64 of [a-z0-9._-], starting with a letter or digit', () => {
    for (const good of ['a', '0', 'ssh', 'vnc-5900.x_y', 'x'.repeat(64)]) assert.equal(validateServiceName(good), good)
    for (const bad of ['', 'SSH', '-x', '.x', '_x', 'a b', 'x'.repeat(65), '*', 'ssh\n', 'é', 'a/b']) {
      assert.throws(() => validateServiceName(bad), (err: unknown) => {
        assert.ok(err instanceof InvalidServiceName)
        assert.ok(err instanceof UsageError)
        assert.equal(err.code, 'INVALID_SERVICE_NAME')
        return true
      }, JSON.stringify(bad))
    }
  })
})
