import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { ContactDirectory, OwnUserId, UnknownContact } from '../../../src/apps/host/contact-directory.js'
import { InvalidUserId } from '../../../src/identity/index.js'
import { cleanupAll, makeProfile, runCli, startDaemon, type Profile } from '../../helpers/cli.js'

/** An app's view of the contacts, through a real daemon's API. */
describe('ContactDirectory', () => {
  let alice: Profile
  let bob: Profile
  let mallory: Profile

  before(async () => {
    ;[alice, bob, mallory] = await Promise.all([makeProfile('alice'), makeProfile('bob'), makeProfile('mallory')])
    await runCli(alice.home, ['contacts', 'add', 'bob', bob.userId])
    await startDaemon(alice.home, ['--no-apps'])
  })

  after(async () => { await cleanupAll() })

  test('a name is resolved to the key it has now: a contact removed and the name given to someone else', async () => {
    const directory = new ContactDirectory({ home: alice.home })
    assert.deepEqual(await directory.resolve('BOB'), { userId: bob.userId, name: 'bob' })
    assert.equal(await directory.nameOf(bob.userId), 'bob')
    // the CLI writes the store itself, a moment after the app last looked
    assert.equal((await runCli(alice.home, ['contacts', 'remove', 'bob'])).code, 0)
    assert.equal((await runCli(alice.home, ['contacts', 'add', 'bob', mallory.userId])).code, 0)
    assert.deepEqual(await directory.resolve('bob'), { userId: mallory.userId, name: 'bob' })
    assert.equal((await runCli(alice.home, ['contacts', 'remove', 'bob'])).code, 0)
    await assert.rejects(directory.resolve('bob'), UnknownContact)
    assert.deepEqual(await directory.resolve(bob.userId), { userId: bob.userId }, 'a user ID needs no contact')
  })

  test('a burst of lookups, hits or misses, asks the daemon once', async () => {
    assert.equal((await runCli(alice.home, ['contacts', 'add', 'carol', mallory.userId])).code, 0)
    const directory = new ContactDirectory({ home: alice.home })
    // counted where the directory asks the daemon
    const api = (directory as unknown as { api: { get: (path: string) => Promise<unknown> } }).api
    const get = api.get.bind(api)
    let asked = 0
    api.get = async (path) => { if (path === '/v1/contacts') asked++; return await get(path) }
    const names = await Promise.all(Array.from({ length: 2000 }, async () => await directory.nameOf(mallory.userId)))
    assert.ok(names.every(n => n === 'carol'), String(names[0]))
    assert.equal(asked, 1, 'one request for 2,000 lookups at once')
    // a stranger: each lookup misses the list and asks for a fresh one, which they share
    directory.invalidate()
    asked = 0
    const strangers = await Promise.all(Array.from({ length: 2000 }, async () => await directory.nameOf(bob.userId)))
    assert.ok(strangers.every(n => n === undefined))
    assert.ok(asked <= 3, `${asked} requests for 2,000 misses at once`)
  })

  test('a user ID is checked as the CLI checks it, and kept in one form; your own is refused', async () => {
    const directory = new ContactDirectory({ home: alice.home })
    assert.deepEqual(await directory.resolve(bob.userId.toUpperCase()), { userId: bob.userId }, 'one peer, whatever the case it was typed in')
    const last = bob.userId.at(-1) === 'a' ? 'b' : 'a'
    await assert.rejects(directory.resolve(bob.userId.slice(0, -1) + last), (err: Error) => {
      assert.ok(err instanceof InvalidUserId)
      assert.match(err.message, /checksum mismatch/)
      return true
    })
    await assert.rejects(directory.resolve(alice.userId), OwnUserId)
  })
})
