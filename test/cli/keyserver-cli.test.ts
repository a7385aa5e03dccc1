import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { cleanupAll, makeProfile, runCli, startDaemon, type CliResult } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { freePort } from '../helpers/sshd.js'
import { headOf, http, newKeyUser, postOperation, register, startKeyServer, type KeyUser, type RunningKeyServer } from '../helpers/keyserver.js'
import { fingerprint, parseUserId } from '../../src/identity/index.js'
import { operationHash, signOperation, type SignedOperation } from '../../src/keyserver/operation.js'
import { usernameSkeleton } from '../../src/keyserver/username.js'

type Profile = Awaited<ReturnType<typeof makeProfile>>
interface ListedContact { name: string, userId: string, fingerprint: string, keyserver?: { url: string, username: string, seq: number, hash: string } }

/** Asserts exit code `code` and, for a failure, exactly one line on stderr matching why. */
function expectFailure (r: CliResult, code: number, why: RegExp, what: string): void {
  assert.equal(r.code, code, `${what} → ${r.code}: ${r.stderr}${r.stdout}`)
  assert.match(r.stderr, /^cspace: [^\n]+\n$/, `${what}: one line on stderr: ${r.stderr}`)
  assert.match(r.stderr, why, what)
  assert.equal(r.stdout, '', `${what}: nothing on stdout`)
}

function ok (r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} → ${r.code}: ${r.stderr}`)
  return r
}

describe('cspace keyserver and contacts from a key server, end to end', () => {
  let db: string
  let ks: RunningKeyServer
  let url: string
  let alice: Profile
  let bob: Profile
  let carol: Profile
  let aliceNewId: string
  let rotaOld: KeyUser
  let rotaNew: KeyUser

  const contact = async (name: string): Promise<ListedContact | undefined> => {
    const r = ok(await runCli(bob.home, ['contacts', 'list', '--json']), 'contacts list --json')
    return (JSON.parse(r.stdout) as ListedContact[]).find(c => c.name === name)
  }

  before(async () => {
    db = join(tempDir('cspace-ks-db-'), 'keyserver.db')
    ks = await startKeyServer(db)
    url = ks.url
    ;[alice, bob, carol] = await Promise.all([makeProfile('alice'), makeProfile('bob'), makeProfile('carol')])
  })
  after(async () => { await cleanupAll() })

  test('register: a name for the profile key; taken, confusable, invalid and second names refused', async () => {
    const r = ok(await runCli(alice.home, ['keyserver', 'register', 'alice', '--display-name', 'Alice Liddell', '--keyserver', url]), 'register alice')
    assert.equal(r.stdout, `registered alice (Alice Liddell) on ${url}\nfingerprint: ${alice.fingerprint}\n`)
    expectFailure(await runCli(carol.home, ['keyserver', 'register', 'alice', '--keyserver', url]), 2, /the username "alice" is taken/, 'taken')
    expectFailure(await runCli(carol.home, ['keyserver', 'register', 'a1ice', '--keyserver', url]), 2, /"a1ice" is too easily mistaken for the existing username "alice"/, 'confusable 1/l')
    expectFailure(await runCli(carol.home, ['keyserver', 'register', 'al1ce', '--keyserver', url]), 2, /mistaken for the existing username "alice"/, 'confusable 1/i')
    expectFailure(await runCli(carol.home, ['keyserver', 'register', 'Alice', '--keyserver', url]), 2, /capital letters/, 'capitals')
    expectFailure(await runCli(alice.home, ['keyserver', 'register', 'alice2', '--keyserver', url]), 2, /already holds the username "alice"/, 'one name per key')
    expectFailure(await runCli(carol.home, ['keyserver', 'register', 'carol', '--display-name', 'C'.repeat(200), '--keyserver', url]), 2, /^cspace: --display-name is longer than 64 characters\n$/, 'a display name too long, said before anything is sent')
  })

  test('search prefixes, continuations and fingerprints with a digit missing are refused in the client\'s words', async () => {
    expectFailure(await runCli(bob.home, ['keyserver', 'search', 'A', '--keyserver', url]), 2, /^cspace: "A" is not a search prefix: usernames are lower case \(try "a"\)\n$/, 'capital prefix')
    expectFailure(await runCli(bob.home, ['keyserver', 'search', '', '--keyserver', url]), 2, /^cspace: "" is not a search prefix: it is empty; give the first letters of a username\n$/, 'empty prefix')
    expectFailure(await runCli(bob.home, ['keyserver', 'search', 'a', '--after', 'a/b', '--keyserver', url]), 2, /^cspace: "a\/b" is not a username to continue after: use a-z, 0-9/, 'bad --after')
    const short = alice.fingerprint.slice(0, -1)
    expectFailure(await runCli(bob.home, ['keyserver', 'lookup', short, '--keyserver', url]), 2, /^cspace: a fingerprint has 30 digits; this one has 29: copy it again/, 'a digit short')
  })

  test('lookup by username, by fingerprint with spaces, by user ID; --history and --json', async () => {
    const expected = `alice (Alice Liddell)\nid: ${alice.userId}\nfingerprint: ${alice.fingerprint}\n`
    assert.equal(ok(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--keyserver', url]), 'by name').stdout, expected)
    assert.match(alice.fingerprint, / /)
    assert.equal(ok(await runCli(bob.home, ['keyserver', 'lookup', alice.fingerprint, '--keyserver', url]), 'by fingerprint').stdout, expected)
    assert.equal(ok(await runCli(bob.home, ['keyserver', 'lookup', alice.userId, '--keyserver', url]), 'by user ID').stdout, expected)
    const h = ok(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--history', '--keyserver', url]), '--history').stdout.split('\n')
    assert.deepEqual(h.slice(0, 4), expected.split('\n').slice(0, 3).concat('history (1 entries, every one verified):'))
    assert.match(h[4], new RegExp(`^ {2}0\\t\\d{4}-\\d\\d-\\d\\dT[^\\t]+\\tregister\\tkey ${alice.fingerprint}$`))
    const j = JSON.parse(ok(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--json', '--history', '--keyserver', url]), '--json').stdout)
    assert.equal(j.length, 1)
    assert.deepEqual({ ...j[0], history: undefined }, { username: 'alice', displayName: 'Alice Liddell', userId: alice.userId, fingerprint: alice.fingerprint, history: undefined })
    assert.equal(j[0].history.length, 1)
    assert.equal(j[0].history[0].op, 'register')
    assert.equal(j[0].history[0].key, alice.userId)
    expectFailure(await runCli(bob.home, ['keyserver', 'lookup', 'nobody', '--keyserver', url]), 2, /no user "nobody"/, 'unknown name')
    expectFailure(await runCli(bob.home, ['keyserver', 'lookup', carol.fingerprint, '--keyserver', url]), 2, /no username is registered for this key/, 'unknown key')
  })

  test('search pages through a prefix, with the next page hinted on stderr', async () => {
    for (const name of ['alpha', 'alps']) assert.equal((await register(url, await newKeyUser(), name, name.toUpperCase())).status, 201)
    const first = ok(await runCli(bob.home, ['keyserver', 'search', 'al', '--limit', '2', '--keyserver', url]), 'search page 1')
    assert.deepEqual(first.stdout.trim().split('\n').map(l => l.split('\t')[0]), ['alice', 'alpha'])
    assert.equal(first.stdout.split('\n')[0], `alice\tAlice Liddell\t${alice.fingerprint}`)
    assert.match(first.stderr, /^more: cspace keyserver search al --after alpha( [^\n]*)?\n$/)
    const second = ok(await runCli(bob.home, ['keyserver', 'search', 'al', '--limit', '2', '--after', 'alpha', '--keyserver', url]), 'search page 2')
    assert.deepEqual(second.stdout.trim().split('\n').map(l => l.split('\t')[0]), ['alps'])
    assert.equal(second.stderr, '')
    const none = ok(await runCli(bob.home, ['keyserver', 'search', 'zz', '--keyserver', url]), 'search none')
    assert.equal(none.stdout, '')
    assert.equal(none.stderr, 'no usernames start with "zz"\n')
    const j = JSON.parse(ok(await runCli(bob.home, ['keyserver', 'search', 'alp', '--json', '--keyserver', url]), 'search --json').stdout)
    assert.deepEqual(j.users.map((u: { username: string, displayName: string }) => [u.username, u.displayName]), [['alpha', 'ALPHA'], ['alps', 'ALPS']])
    assert.equal(j.next, null)
    expectFailure(await runCli(bob.home, ['keyserver', 'search', 'al', '--limit', '0', '--keyserver', url]), 2, /--limit 0 must be an integer from 1 to 100/, 'bad limit')
  })

  test('the key server comes from --keyserver, else config.json; none or an unreachable one is refused', async () => {
    expectFailure(await runCli(bob.home, ['keyserver', 'lookup', 'alice']), 2, /no key server set: pass --keyserver URL, or set "keyserver" in config\.json/, 'none set')
    expectFailure(await runCli(bob.home, ['contacts', 'add', 'x', '--from-keyserver', 'alice']), 2, /no key server set/, 'contacts add, none set')
    const configured = await makeProfile('configured', { config: { keyserver: url } })
    const r = ok(await runCli(configured.home, ['keyserver', 'lookup', 'alice']), 'lookup via config.json')
    assert.match(r.stdout, new RegExp(`^alice \\(Alice Liddell\\)\\nid: ${alice.userId}\\n`))
    const added = ok(await runCli(configured.home, ['contacts', 'add', 'Al', '--from-keyserver', 'alpha']), 'contacts add via config.json')
    assert.match(added.stdout, new RegExp(`^added Al \\(alpha, ALPHA on ${url.replace(/\./g, '\\.')}\\)\\n`))
    const port = await freePort() // nothing listens on it once freePort returns
    expectFailure(await runCli(configured.home, ['keyserver', 'lookup', 'alice', '--keyserver', `http://127.0.0.1:${port}`]), 1,
      new RegExp(`the key server at http://127\\.0\\.0\\.1:${port} cannot be used`), 'unreachable')
    expectFailure(await runCli(configured.home, ['keyserver', 'lookup', 'alice', '--keyserver', 'http://127.0.0.1:6000']), 1,
      /port 6000 is one that fetch refuses to use \(as browsers do\); run the key server on another port/, 'a port fetch will not use')
    expectFailure(await runCli(configured.home, ['keyserver', 'lookup', 'alice', '--keyserver', 'ftp://example.org']), 2, /must be an http:\/\/ or https:\/\/ URL/, 'not http')
    // serving on a port another program holds (this key server's): a usage error that says what to do
    const taken = new URL(url).port
    expectFailure(await runCli(configured.home, ['keyserver', '--port', taken, '--host', '127.0.0.1', '--db', join(tempDir('cspace-ks-taken-'), 'ks.db')]), 2,
      new RegExp(`^cspace: port ${taken} on 127\\.0\\.0\\.1 is already in use; pick another with --port\n$`), 'port in use')
  })

  test('contacts add --from-keyserver pins the key; verify says ok and follows display-name updates', async () => {
    const r = ok(await runCli(bob.home, ['contacts', 'add', 'Alice', '--from-keyserver', 'alice', '--keyserver', url]), 'contacts add')
    assert.equal(r.stdout, `added Alice (alice, Alice Liddell on ${url})\nfingerprint: ${alice.fingerprint}\n`)
    assert.match(r.stderr, /compare this fingerprint with Alice in person/)
    const c = await contact('Alice')
    assert.equal(c?.userId, alice.userId)
    assert.equal(c?.fingerprint, alice.fingerprint)
    assert.deepEqual(c?.keyserver, { url, username: 'alice', seq: 0, hash: await headOf(url, 'alice') })
    const v = ok(await runCli(bob.home, ['contacts', 'verify']), 'verify')
    assert.equal(v.stdout, `Alice: ok: "alice" on ${url} still holds the key you pinned (fingerprint ${alice.fingerprint})\n`)
    const u = ok(await runCli(alice.home, ['keyserver', 'update', '--display-name', 'Alice L.', '--keyserver', url]), 'update')
    assert.equal(u.stdout, 'updated alice (Alice L.)\n')
    assert.match(ok(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--keyserver', url]), 'lookup').stdout, /^alice \(Alice L\.\)\n/)
    assert.match(ok(await runCli(bob.home, ['contacts', 'verify', 'Alice']), 'verify after update').stdout, /^Alice: ok: /)
    assert.deepEqual((await contact('Alice'))?.keyserver, { url, username: 'alice', seq: 1, hash: await headOf(url, 'alice') }, 'the pin follows the log')
    expectFailure(await runCli(bob.home, ['contacts', 'verify', '--accept']), 2, /--accept needs the contact's name/, '--accept alone')
  })

  test('rotate: verify reports KEY CHANGED and keeps the old key until --accept', async () => {
    const daemon = await startDaemon(alice.home)
    expectFailure(await runCli(alice.home, ['keyserver', 'rotate', '--keyserver', url]), 2, /is already running for the profile .*; stop it before rotating the key/, 'rotate with the daemon running')
    assert.equal(ok(await runCli(alice.home, ['id']), 'id').stdout.split('\n')[0], alice.userId, 'nothing changed')
    assert.equal(await daemon.stop(), 0)
    const r = ok(await runCli(alice.home, ['keyserver', 'rotate', '--keyserver', url]), 'rotate')
    aliceNewId = r.stdout.split('\n')[0]
    assert.notEqual(aliceNewId, alice.userId)
    assert.match(r.stderr, /rotated alice to a new key; the old key is kept in /)
    const id = ok(await runCli(alice.home, ['id']), 'id').stdout.split('\n')
    assert.equal(id[0], aliceNewId, 'the profile now uses the new key')
    const newPrint = fingerprint(parseUserId(aliceNewId).publicKey)
    assert.equal(r.stdout, `${aliceNewId}\nfingerprint: ${newPrint}\n`)

    const v = await runCli(bob.home, ['contacts', 'verify'])
    assert.equal(v.code, 1, v.stderr)
    assert.match(v.stdout, new RegExp(`^Alice: KEY CHANGED on \\d{4}-\\d\\d-\\d\\d: "alice" on .* moved to a new key, signed by the key you pinned; new fingerprint ${newPrint}\\. Run \`cspace contacts verify Alice --accept\``))
    assert.equal((await contact('Alice'))?.userId, alice.userId, 'never applied silently')
    assert.equal((await runCli(bob.home, ['contacts', 'verify', 'Alice'])).code, 1, 'still changed on a second look')

    const a = ok(await runCli(bob.home, ['contacts', 'verify', 'Alice', '--accept']), 'accept')
    assert.equal(a.stdout, `Alice: now using the new key of "alice" on ${url} (fingerprint ${newPrint})\n`)
    const c = await contact('Alice')
    assert.equal(c?.userId, aliceNewId)
    assert.equal(c?.keyserver?.seq, 2)
    assert.match(ok(await runCli(bob.home, ['contacts', 'verify', 'Alice']), 'verify after accept').stdout, /^Alice: ok: /)
    assert.match(ok(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--keyserver', url]), 'lookup').stdout, new RegExp(`\\nid: ${aliceNewId}\\n`))
  })

  test('delete needs --yes; a re-registration by another key is a WARNING', async () => {
    const refused = await runCli(alice.home, ['keyserver', 'delete', '--keyserver', url])
    expectFailure(refused, 2, /deleting "alice" frees it for anyone to take; run again with --yes/, 'delete without --yes')
    assert.match(ok(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--keyserver', url]), 'still there').stdout, /^alice /)
    assert.equal(ok(await runCli(alice.home, ['keyserver', 'delete', '--yes', '--keyserver', url]), 'delete --yes').stdout, 'deleted alice\n')
    expectFailure(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--keyserver', url]), 2, /"alice" was deleted by its owner; its history remains \(`cspace keyserver lookup alice --history`/, 'lookup deleted')
    // its history is still there to read, ending in the delete
    const gone = ok(await runCli(bob.home, ['keyserver', 'lookup', 'alice', '--history', '--keyserver', url]), 'history of a deleted name')
    assert.match(gone.stdout, /^alice \(deleted by its owner: no key holds it\)\n/)
    assert.match(gone.stdout.trimEnd().split('\n').at(-1) ?? '', /delete/)
    expectFailure(await runCli(alice.home, ['keyserver', 'delete', '--yes', '--keyserver', url]), 2, /holds no username/, 'delete twice')
    const d = await runCli(bob.home, ['contacts', 'verify', 'Alice'])
    assert.equal(d.code, 1)
    assert.match(d.stdout, /^Alice: DELETED: the owner of "alice" on .* deleted it on \d{4}-\d\d-\d\d; the contact keeps the key you pinned\n$/)

    ok(await runCli(carol.home, ['keyserver', 'register', 'alice', '--keyserver', url]), 'carol takes the free name')
    const w = await runCli(bob.home, ['contacts', 'verify', 'Alice'])
    assert.equal(w.code, 1, w.stderr)
    assert.match(w.stdout, /^Alice: WARNING: "alice" on .* now belongs to a different key \(since \d{4}-\d\d-\d\d\) that your pinned key never signed for; its fingerprint is /)
    assert.ok(w.stdout.includes(`its fingerprint is ${carol.fingerprint}. Keep the pinned key`), 'the fingerprint to compare is shown')
    assert.equal((await contact('Alice'))?.userId, aliceNewId, 'the contact keeps the pinned key')
    const acc = await runCli(bob.home, ['contacts', 'verify', 'Alice', '--accept'])
    assert.equal(acc.code, 1, '--accept cannot take a replacement')
    assert.match(acc.stdout, /^Alice: WARNING: /)
    assert.equal((await contact('Alice'))?.userId, aliceNewId)
  })

  test('a compromised server that rewrites or alters history is caught', async () => {
    // erin: register and update, then bob adds her from the key server
    const erin = await newKeyUser()
    assert.equal((await register(url, erin, 'erin', 'Erin')).status, 201)
    assert.equal((await postOperation(url, { op: 'update', username: 'erin', key: erin.id, displayName: 'Erin E.', prev: await headOf(url, 'erin') }, erin)).status, 200)
    ok(await runCli(bob.home, ['contacts', 'add', 'Erin', '--from-keyserver', 'erin', '--keyserver', url]), 'add Erin')
    assert.equal((await contact('Erin'))?.keyserver?.seq, 1)
    // alps (one entry) will have its head altered; alto (two entries) its first entry, behind a good head
    const alto = await newKeyUser()
    assert.equal((await register(url, alto, 'alto', 'Alto')).status, 201)
    assert.equal((await postOperation(url, { op: 'update', username: 'alto', key: alto.id, displayName: 'Alto 2', prev: await headOf(url, 'alto') }, alto)).status, 200)
    ok(await runCli(bob.home, ['keyserver', 'lookup', 'alto', '--keyserver', url]), 'alto before')
    const alpsLog = (await http(url, 'GET', '/v1/users/alps/log')).body.operations as SignedOperation[]
    const altoLog = (await http(url, 'GET', '/v1/users/alto/log')).body.operations as SignedOperation[]
    assert.deepEqual([alpsLog.length, altoLog.length], [1, 2])

    // rota: registered by one key, rotated to another; the server will serve the superseded entry
    rotaOld = await newKeyUser()
    rotaNew = await newKeyUser()
    const rotaReg = await signOperation({ op: 'register', username: 'rota', key: rotaOld.id, displayName: 'Rota', prev: '' }, rotaOld.key)
    assert.equal((await http(url, 'POST', '/v1/users/rota/log', rotaReg)).status, 201)
    assert.equal((await postOperation(url, { op: 'rotate', username: 'rota', key: rotaNew.id, oldKey: rotaOld.id, displayName: 'Rota', prev: operationHash(rotaReg) }, rotaNew, rotaOld)).status, 200)

    const port = new URL(url).port
    assert.equal(await ks.stop(), 0)
    const attacker = await newKeyUser()
    const forged = await signOperation({ op: 'register', username: 'erin', key: attacker.id, displayName: 'Erin E.', prev: '' }, attacker.key)
    const id = parseUserId(attacker.id)
    const sql = new DatabaseSync(db)
    try {
      sql.prepare('DELETE FROM log WHERE username = ?').run('erin')
      sql.prepare('DELETE FROM names WHERE username = ?').run('erin')
      sql.prepare('INSERT INTO log (username, seq, operation, hash, accepted_at) VALUES (?, 0, ?, ?, ?)').run('erin', JSON.stringify(forged), operationHash(forged), Date.now())
      sql.prepare(`INSERT INTO names (username, skeleton, user_id, peer_id, fingerprint, display_name, seq, head, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`)
        .run('erin', usernameSkeleton('erin'), attacker.id, id.peerId.toString(), fingerprint(id.publicKey).replaceAll(' ', ''), 'Erin E.', operationHash(forged), forged.timestamp)
      // alter a stored operation's display name without re-signing it
      const alter = sql.prepare('UPDATE log SET operation = ? WHERE username = ? AND seq = 0')
      assert.equal(Number(alter.run(JSON.stringify({ ...alpsLog[0], displayName: 'Mallory' }), 'alps').changes), 1)
      assert.equal(Number(alter.run(JSON.stringify({ ...altoLog[0], displayName: 'Mallory' }), 'alto').changes), 1)
      // rota's name row points back at its first entry, as if the rotation had not happened
      const old = parseUserId(rotaOld.id)
      assert.equal(Number(sql.prepare('UPDATE names SET seq = 1, head = ?, user_id = ?, peer_id = ?, fingerprint = ? WHERE username = ?')
        .run(operationHash(rotaReg), rotaOld.id, old.peerId.toString(), fingerprint(old.publicKey).replaceAll(' ', ''), 'rota').changes), 1)
    } finally {
      sql.close()
    }
    ks = await startKeyServer(db, ['--port', port])
    assert.equal(ks.url, url, 'the same address as before')

    const v = await runCli(bob.home, ['contacts', 'verify', 'Erin'])
    assert.equal(v.code, 1, v.stderr)
    assert.equal(v.stdout, `Erin: WARNING: the key server's history of "erin" no longer holds the entry you pinned: it has rewritten history. Do not trust ${url}; the contact keeps the key you pinned\n`)
    assert.equal((await contact('Erin'))?.userId, erin.id)
    assert.equal((await runCli(bob.home, ['contacts', 'verify', 'Erin', '--accept'])).code, 1)
    assert.equal((await contact('Erin'))?.userId, erin.id, '--accept does not take a rewritten history')

    expectFailure(await runCli(bob.home, ['keyserver', 'lookup', 'alps', '--keyserver', url]), 1, /does not verify/, 'altered entry')
    expectFailure(await runCli(bob.home, ['keyserver', 'lookup', 'alto', '--keyserver', url]), 1, /entry 0 of "alto"'s log: .*does not verify/, 'altered history')
    expectFailure(await runCli(bob.home, ['keyserver', 'search', 'alp', '--keyserver', url]), 1, /does not verify/, 'altered entry in a search')
    expectFailure(await runCli(bob.home, ['contacts', 'add', 'Alps', '--from-keyserver', 'alps', '--keyserver', url]), 1, /does not verify/, 'add from an altered entry')
    assert.equal(await contact('Alps'), undefined)
    // the untouched entries still verify
    assert.match(ok(await runCli(bob.home, ['keyserver', 'lookup', 'alpha', '--keyserver', url]), 'alpha').stdout, /^alpha \(ALPHA\)\n/)
  })
  test('an entry the name\'s log has superseded is refused, whichever way it is looked up', async () => {
    const print = fingerprint(parseUserId(rotaOld.id).publicKey)
    // the log says rota is held by rotaNew; the server answers with rota's first entry, validly signed by rotaOld
    const log = (await http(url, 'GET', '/v1/users/rota/log')).body.operations as SignedOperation[]
    assert.deepEqual(log.map(op => op.op), ['register', 'rotate'])
    const results: Array<[string, CliResult]> = []
    for (const query of ['rota', print, rotaOld.id]) results.push([query, await runCli(bob.home, ['keyserver', 'lookup', query, '--keyserver', url])])
    // by fingerprint or user ID the client checks only the entry's own signature, not that the log still ends with it
    const shown = results.filter(([, r]) => r.code === 0).map(([q]) => q)
    assert.deepEqual(shown, [], `a superseded key was shown as rota's for: ${shown.join(', ')}`)
    for (const [query, r] of results) expectFailure(r, 1, /does not verify/, query)
  })
})
