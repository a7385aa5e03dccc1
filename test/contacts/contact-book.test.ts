import { describe, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { openStore } from '../../src/store/index.js'
import { ContactBook, ContactKeyExists, ContactNameTaken, ContactNotFound, InvalidContactName } from '../../src/contacts/index.js'
import { InvalidUserId } from '../../src/identity/index.js'
import { cleanupAll, tempDir } from '../helpers/cli.js'

async function newId (): Promise<string> {
  return userIdFromPublicKey((await generateKeyPair('Ed25519')).publicKey).text
}

describe('ContactBook', () => {
  after(async () => { await cleanupAll() })
  const path = join(tempDir(), 'cspace.db')

  test('add, list, rename, remove; names unique case-insensitively; data persists across reopen', async () => {
    const [bob, carol, rsa] = [await newId(), await newId(), userIdFromPublicKey((await generateKeyPair('RSA', 2048)).publicKey).text]
    let store = openStore(path)
    let book = new ContactBook({ store })
    const b = book.add('Bob', bob)
    assert.equal(b.name, 'Bob')
    assert.match(b.fingerprint, /^(\d{5} ){5}\d{5}$/)
    book.add('carol', carol)
    book.add('ruth', rsa)
    assert.throws(() => book.add('BOB', carol), ContactNameTaken)
    assert.throws(() => book.add('bobby', bob), (err: Error) => err instanceof ContactKeyExists && /already your contact "Bob"/.test(err.message))
    assert.deepEqual(book.list().map(c => c.name), ['Bob', 'carol', 'ruth'])
    assert.equal(book.get('bob').userId, bob)
    assert.equal(book.findByPeerId(b.peerId)?.name, 'Bob')
    assert.equal(book.rename('bob', 'BOB').name, 'BOB', 'a change of case of the same contact is allowed')
    assert.throws(() => book.rename('BOB', 'Carol'), ContactNameTaken)
    store.close()

    store = openStore(path)
    book = new ContactBook({ store })
    assert.deepEqual(book.list().map(c => c.name), ['BOB', 'carol', 'ruth'])
    assert.equal(book.remove('Carol').name, 'carol')
    assert.throws(() => book.get('carol'), ContactNotFound)
    assert.throws(() => book.remove('carol'), ContactNotFound)
    assert.equal(book.setVerified('bob', true).verified, true)
    assert.equal(book.get('bob').verified, true)
    store.close()
  })

  test('invalid names and IDs are refused and change nothing', async () => {
    const store = openStore(path)
    const book = new ContactBook({ store })
    const before = book.list()
    const id = await newId()
    for (const name of ['', ' bob', 'bob smith', '-bob', 'a'.repeat(65), 'bob/../x', id]) {
      assert.throws(() => book.add(name, id), InvalidContactName, JSON.stringify(name))
    }
    for (const bad of ['', 'garbage', id.slice(0, -2), `${id}x`, 'cs1' + '7'.repeat(60)]) {
      assert.throws(() => book.add('zed', bad), InvalidUserId, JSON.stringify(bad))
    }
    assert.deepEqual(book.list(), before)
    assert.equal(book.add('Zoë', id).name, 'Zoë', 'non-ASCII letters are fine')
    store.close()
  })
})
