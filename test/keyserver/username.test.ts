import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { USERNAME_MAX, USERNAME_MIN, usernameSkeleton, validateSearchAfter, validateUsername, validateUsernamePrefix } from '../../src/keyserver/username.js'
import { InvalidSearchPrefix, InvalidUsername } from '../../src/keyserver/errors.js'

/** Asserts that fn throws InvalidUsername: a one-line usage error (exit 2, HTTP 400) matching why. */
function refused (fn: () => unknown, why: RegExp, what: string): void {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof InvalidUsername, `${what}: ${err.message}`)
    assert.equal(err.code, 'INVALID_USERNAME', what)
    assert.equal(err.exitCode, 2, what)
    assert.equal(err.status, 400, what)
    assert.ok(!err.message.includes('\n'), `${what}: one line`)
    assert.match(err.message, why, what)
    return true
  }, what)
}

describe('usernames', () => {
  test('valid usernames are returned unchanged', () => {
    for (const name of ['bob', 'alice', 'a1c', '007', 'bob.smith', 'bob_smith', 'bob-smith', 'a.b-c_d', 'x'.repeat(USERNAME_MAX), 'abc', 'z9z']) {
      assert.equal(validateUsername(name), name)
    }
    assert.equal(USERNAME_MIN, 3)
    assert.equal(USERNAME_MAX, 32)
  })

  test('each rule refuses with its own reason, quoting the name', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /shorter than 3 characters/],
      ['ab', /^"ab" cannot be a username: it is shorter than 3 characters/],
      ['a'.repeat(33), /longer than 32 characters/],
      ['Alice', /capital letters; usernames are lower case/],
      ['aliCe', /capital letters/],
      ['bob smith', /a character other than a-z, 0-9/],
      ['bob/x', /a character other than a-z, 0-9/],
      ['élan', /a character other than a-z, 0-9/],
      ['bob\nx', /a character other than a-z, 0-9/],
      ['bob+x', /a character other than a-z, 0-9/],
      ['-bob', /must start and end with a letter or digit/],
      ['.bob', /must start and end with a letter or digit/],
      ['bob_', /must start and end with a letter or digit/],
      ['alice-', /must start and end with a letter or digit/],
      ['a..b', /two separators in a row/],
      ['a-_b', /two separators in a row/],
      ['bob._smith', /two separators in a row/]
    ]
    for (const [name, why] of cases) {
      refused(() => validateUsername(name), why, JSON.stringify(name))
      refused(() => validateUsername(name), /\(use 3-32 of a-z, 0-9, '-', '_', '\.', starting and ending with a letter or digit\)$/, JSON.stringify(name))
    }
  })

  test('a very long name is quoted only in part', () => {
    const name = 'q'.repeat(1000)
    assert.throws(() => validateUsername(name), (err: Error) => {
      assert.ok(err.message.includes(`"${'q'.repeat(40)}"`))
      assert.ok(!err.message.includes('q'.repeat(41)))
      return true
    })
  })

  test('the length limits are inclusive at both ends', () => {
    assert.equal(validateUsername('abc'), 'abc')
    refused(() => validateUsername('ab'), /shorter/, 'two characters')
    assert.equal(validateUsername('b'.repeat(32)), 'b'.repeat(32))
    refused(() => validateUsername('b'.repeat(33)), /longer/, '33 characters')
  })
})

describe('username skeletons', () => {
  test('names a reader could mistake for each other share a skeleton', () => {
    const pairs: Array<[string, string]> = [
      ['a1ice', 'alice'],
      ['alice', 'aiice'],
      ['0scar', 'oscar'],
      ['rnary', 'mary'],
      ['bob_smith', 'bob.smith'],
      ['bob-smith', 'bob_smith'],
      ['vvill', 'will'],
      ['cloud', 'doud'],
      ['b0b', 'bob'],
      ['rn0rn', 'mom']
    ]
    for (const [a, b] of pairs) {
      assert.equal(usernameSkeleton(a), usernameSkeleton(b), `${a} / ${b}`)
    }
  })

  test('a digit or i that looks like l folds into the cl/d rule too (c1ear, ciear, clear, dear)', () => {
    // c1ear and clear differ only by 1/l, yet the multi-letter rules run before the 1/i → l fold,
    // so "clear" becomes "dear" while "c1ear" and "ciear" stay "clear": the server lets both live
    for (const name of ['c1ear', 'ciear', 'dear']) {
      assert.equal(usernameSkeleton(name), usernameSkeleton('clear'), `${name} / clear`)
    }
  })

  test('names that do not look alike keep different skeletons', () => {
    const pairs: Array<[string, string]> = [
      ['alice', 'alize'],
      ['bob', 'rob'],
      ['oscar', 'oskar'],
      ['mary', 'nary'],
      ['will', 'wall'],
      ['bobsmith', 'bob.smith'],
      ['alice', 'alice2'],
      ['carol', 'caro1x']
    ]
    for (const [a, b] of pairs) {
      assert.notEqual(usernameSkeleton(a), usernameSkeleton(b), `${a} / ${b}`)
    }
  })

  test('a skeleton of a skeleton-free name is the name itself', () => {
    for (const name of ['bob', 'zed', 'kate', 'x-y']) assert.equal(usernameSkeleton(name), name)
  })
})

function refusedSearch (fn: () => unknown, why: RegExp, what: string): void {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof InvalidSearchPrefix, `${what}: ${err.message}`)
    assert.deepEqual([err.code, err.exitCode, err.status], ['INVALID_REQUEST', 2, 400], what)
    assert.match(err.message, why, what)
    return true
  })
}

describe('username search prefixes', () => {
  test('one to 32 characters of the username alphabet are accepted, separators anywhere', () => {
    for (const p of ['a', '-', '.', '_', 'al', 'bob.', 'b'.repeat(32), '9']) assert.equal(validateUsernamePrefix(p), p)
  })

  test('empty, too long, or out of the alphabet is refused', () => {
    const why: Array<[string, RegExp]> = [
      ['', /^"" is not a search prefix: it is empty; give the first letters of a username$/],
      ['b'.repeat(33), /is not a search prefix: it is longer than 32 characters$/],
      ['Al', /^"Al" is not a search prefix: usernames are lower case \(try "al"\)$/]
    ]
    for (const p of ['a b', 'a%', 'é', 'a/b', 'A/b']) why.push([p, /is not a search prefix: use a-z, 0-9, '-', '_' and '\.', as usernames do$/])
    for (const [p, message] of why) refusedSearch(() => validateUsernamePrefix(p), message, JSON.stringify(p))
    assert.equal(validateSearchAfter(''), '', 'the first page')
    refusedSearch(() => validateSearchAfter('Alice'), /^"Alice" is not a username to continue after: usernames are lower case/, 'after')
  })
})
