import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { fingerprint, InvalidUserId, parseUserId, userIdFromPublicKey } from '../../src/identity/index.js'
import { openStore } from '../../src/store/index.js'
import {
  ContactBook, ContactKeyExists, ContactNameTaken, ContactNotFound, InvalidContactName, contactNameKey, validateContactName
} from '../../src/contacts/index.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'

function tempDb (): string {
  return join(tempDir(), 'cspace.db')
}

async function newId (type: 'Ed25519' | 'RSA' = 'Ed25519'): Promise<string> {
  const key = type === 'RSA' ? await generateKeyPair('RSA', 2048) : await generateKeyPair('Ed25519')
  return userIdFromPublicKey(key.publicKey).text
}

after(removeTempDirs)

describe('contact names', () => {
  test('valid names are returned NFC-normalised', () => {
    assert.equal(validateContactName('bob'), 'bob')
    assert.equal(validateContactName('Bob_2.work-x'), 'Bob_2.work-x')
    assert.equal(validateContactName('7of9'), '7of9')
    assert.equal(validateContactName('Zoe\u0308'), 'Zoë', 'decomposed input is composed')
    assert.equal(validateContactName('Zoë').length, 3)
    assert.equal(validateContactName('नमस्ते'), 'नमस्ते', 'scripts with combining signs work')
    assert.equal(validateContactName('a'.repeat(64)), 'a'.repeat(64))
    assert.equal(validateContactName('cs1short'), 'cs1short', 'short cs1 names are not user IDs')
  })

  test('invalid names are refused saying which rule failed', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /it is empty/],
      ['a'.repeat(65), /longer than 64/],
      [' bob', /must start with a letter or digit/],
      ['-bob', /must start with a letter or digit/],
      ['.hidden', /must start with a letter or digit/],
      ['bob smith', /" " \(U\+0020\) is not allowed/],
      ['bob/../x', /"\/" \(U\+002F\) is not allowed/],
      ['bob\nx', /U\+000A is not allowed/],
      ['cs1' + 'a'.repeat(40), /looks like a user ID/],
      // the rules' group words: a contact of that name would turn "allow anyone files" into a rule for everyone
      ['anyone', /"anyone" is a word of the permission rules/],
      ['Contacts', /"contacts" is a word of the permission rules/]
    ]
    for (const [name, why] of cases) {
      assert.throws(() => validateContactName(name), (err: Error) => {
        assert.ok(err instanceof InvalidContactName, err.message)
        assert.equal(err.code, 'INVALID_CONTACT_NAME')
        assert.equal(err.exitCode, 2)
        assert.ok(!err.message.includes('\n'), 'one line')
        assert.match(err.message, why)
        assert.match(err.message, /use 1-64 letters, digits/)
        return true
      }, JSON.stringify(name))
    }
  })

  test('the uniqueness key ignores case and normalisation', () => {
    assert.equal(contactNameKey('BOB'), contactNameKey('bob'))
    assert.equal(contactNameKey('ZOE\u0308'), contactNameKey('zoë'))
  })
})

describe('ContactBook', () => {
  test('add returns the contact with its peer id and fingerprint; list is sorted ignoring case', async () => {
    const store = openStore(tempDb())
    const book = new ContactBook({ store })
    const [bob, carol, ruth] = [await newId(), await newId(), await newId('RSA')]
    const before = Date.now()
    const b = book.add('bob', bob)
    const parsed = parseUserId(bob)
    assert.deepEqual(b, {
      name: 'bob', userId: bob, peerId: parsed.peerId.toString(), fingerprint: fingerprint(parsed.publicKey), verified: false, addedAt: b.addedAt
    })
    assert.ok(b.addedAt >= before && b.addedAt <= Date.now())
    book.add('Carol', carol)
    const r = book.add('alice', ruth)
    assert.equal(r.peerId, parseUserId(ruth).peerId.toString(), 'RSA keys work too')
    assert.deepEqual(book.list().map(c => c.name), ['alice', 'bob', 'Carol'])
    assert.deepEqual(book.get('bob'), b)
    assert.deepEqual(book.find('BOB'), b, 'lookups ignore case')
    assert.equal(book.find('dave'), undefined)
    assert.equal(book.findByPeerId(b.peerId)?.name, 'bob')
    assert.equal(book.findByPeerId(parseUserId(await newId()).peerId.toString()), undefined)
    store.close()
  })

  test('names are unique ignoring case; a key already present is refused naming its contact', async () => {
    const store = openStore(tempDb())
    const book = new ContactBook({ store })
    const [bob, carol] = [await newId(), await newId()]
    book.add('Bob', bob)
    assert.throws(() => book.add('BOB', carol), (err: Error) =>
      err instanceof ContactNameTaken && err.code === 'CONTACT_NAME_TAKEN' && err.exitCode === 2 && /"BOB" is already a contact/.test(err.message))
    assert.throws(() => book.add('bobby', bob), (err: Error) => {
      assert.ok(err instanceof ContactKeyExists)
      assert.equal(err.code, 'CONTACT_KEY_EXISTS')
      assert.equal(err.exitCode, 2)
      assert.equal(err.existing, 'Bob')
      assert.equal(err.message, 'this key is already your contact "Bob"; use `cspace contacts rename Bob NEWNAME` to rename it')
      return true
    })
    assert.throws(() => book.add('bobby', bob.toUpperCase()), ContactKeyExists, 'the same ID in capitals is the same key')
    assert.deepEqual(book.list().map(c => c.name), ['Bob'], 'refusals change nothing')
    store.close()
  })

  test('a new name mixing scripts whose letters look alike is refused; one script, or scripts that do not, are fine', async () => {
    const book = new ContactBook({ store: openStore(tempDb()) })
    const omicron = 'b\u03bfb' // "bοb": a Greek omicron between Latin b's, drawn like "bob"
    const aCyrillic = '\u0430lice' // "аlice" with a Cyrillic а
    for (const [name, scripts] of [[omicron, 'Latin and Greek'], [aCyrillic, 'Latin and Cyrillic']]) {
      assert.throws(() => book.add(name, 'cs1x'), (err: Error) => err instanceof InvalidContactName && err.message.includes(`it mixes ${scripts} letters, which can look the same; write it in one of them`), name)
    }
    for (const name of ['Ελένη', 'Иван', 'Zoë', 'bob田中', 'नमस्ते']) assert.equal(book.add(name, await newId()).name, name)
    assert.throws(() => book.rename('Zoë', 'Zo\u0435'), InvalidContactName, 'a rename too (Cyrillic е)')
    // stored before the rule, and rules naming such a contact: still read
    assert.equal(validateContactName(omicron), omicron)
  })

  test('rename, remove and verify; unknown names are ContactNotFound', async () => {
    const store = openStore(tempDb())
    const book = new ContactBook({ store })
    const [bob, carol] = [await newId(), await newId()]
    book.add('bob', bob)
    book.add('carol', carol)

    assert.equal(book.rename('bob', 'BOB').name, 'BOB', 'a change of case of the same contact is allowed')
    assert.equal(book.get('bob').name, 'BOB')
    assert.throws(() => book.rename('BOB', 'Carol'), ContactNameTaken)
    assert.throws(() => book.rename('BOB', 'bad name'), InvalidContactName)
    const renamed = book.rename('bob', 'robert')
    assert.equal(renamed.userId, bob)
    assert.equal(book.find('bob'), undefined)
    assert.equal(book.get('Robert').userId, bob)

    assert.equal(book.setVerified('robert', true).verified, true)
    assert.equal(book.get('robert').verified, true)
    assert.equal(book.setVerified('robert', false).verified, false)
    assert.equal(book.get('robert').verified, false)

    assert.equal(book.remove('Carol').name, 'carol')
    assert.deepEqual(book.list().map(c => c.name), ['robert'])
    book.add('carol2', carol)
    for (const op of [() => book.get('carol'), () => book.remove('carol'), () => book.rename('carol', 'x'), () => book.setVerified('carol', true)]) {
      assert.throws(op, (err: Error) =>
        err instanceof ContactNotFound && err.code === 'CONTACT_NOT_FOUND' && err.message === 'no contact named "carol"; see `cspace contacts list`')
    }
    store.close()
  })

  test('contacts persist across close and reopen', async () => {
    const path = tempDb()
    const [bob, carol] = [await newId(), await newId('RSA')]
    let store = openStore(path)
    let book = new ContactBook({ store })
    const b = book.add('bob', bob)
    book.add('carol', carol)
    book.setVerified('carol', true)
    book.rename('bob', 'Bobby')
    store.close()

    store = openStore(path)
    book = new ContactBook({ store })
    assert.deepEqual(book.list().map(c => [c.name, c.verified]), [['Bobby', false], ['carol', true]])
    assert.deepEqual(book.get('bobby'), { ...b, name: 'Bobby' })
    store.close()
  })

  test('invalid user IDs and names are refused and change nothing', async () => {
    const store = openStore(tempDb())
    const book = new ContactBook({ store })
    const id = await newId()
    book.add('existing', await newId())
    const before = book.list()
    for (const bad of ['', '   ', 'garbage', 'cs1', id.slice(0, -2), `${id}x`, id.slice(0, -1) + (id.endsWith('a') ? 'b' : 'a'), 'cs1' + '7'.repeat(60), 'cs1' + 'a'.repeat(2000)]) {
      assert.throws(() => book.add('zed', bad), (err: Error) => err instanceof InvalidUserId && err.exitCode === 2, JSON.stringify(bad.slice(0, 40)))
    }
    for (const name of ['', ' bob', 'bob smith', '-bob', 'a'.repeat(65), 'bob/../x', id]) {
      assert.throws(() => book.add(name, id), InvalidContactName, JSON.stringify(name.slice(0, 40)))
    }
    assert.deepEqual(book.list(), before)
    assert.equal(book.add('Zoe\u0308', id).name, 'Zoë', 'stored NFC')
    assert.equal(book.get('ZOË').userId, id)
    store.close()
  })

  test('reads come from memory: this book\'s own writes show at once, another connection\'s only after reload', async () => {
    const path = tempDb()
    const [bob, carol, dave, eve] = [await newId(), await newId(), await newId(), await newId()]
    const mine = openStore(path)
    const theirs = openStore(path) // as `cspace contacts add` while the daemon runs
    const book = new ContactBook({ store: mine })
    const other = new ContactBook({ store: theirs })
    const b = book.add('bob', bob)
    assert.equal(book.findByPeerId(b.peerId)?.name, 'bob', 'an add is read back at once')
    other.add('carol', carol)
    assert.deepEqual(book.list().map(c => c.name), ['bob'], 'another connection\'s commit is not seen before reload')
    book.reload()
    assert.deepEqual(book.list().map(c => c.name), ['bob', 'carol'])
    const c = book.get('carol')
    assert.equal(book.findByPeerId(c.peerId)?.name, 'carol')

    // own writes drop the copy: renamed, verified, removed are read as they are now
    book.rename('carol', 'Caroline')
    assert.equal(book.findByPeerId(c.peerId)?.name, 'Caroline')
    assert.equal(book.find('carol'), undefined)
    book.setVerified('Caroline', true)
    assert.equal(book.get('caroline').verified, true)
    book.remove('Caroline')
    assert.equal(book.findByPeerId(c.peerId), undefined, 'a removed contact is gone from memory at once')

    // a write checks the store, not the copy: a name another connection took meanwhile is refused
    other.add('dave', dave)
    assert.throws(() => book.add('Dave', eve), ContactNameTaken)
    assert.deepEqual(book.list().map(x => x.name), ['bob', 'dave'], 'the failed write re-read the store')

    // callers get their own objects
    const got = book.get('bob')
    got.name = 'mallory'
    got.verified = true
    assert.deepEqual(book.get('bob'), b)
    mine.close()
    theirs.close()
  })
})
