import { fingerprint, parseUserId } from '../identity/index.js'
import type { Store } from '../store/index.js'
import { contactNameKey, validateNewContactName } from './contact-name.js'
import { ContactChanged, ContactKeyExists, ContactNameTaken, ContactNotFound } from './errors.js'

export interface Contact {
  /** The local name, as the user typed it (NFC). */
  name: string
  /** The user ID token (carries the public key). */
  userId: string
  /** The libp2p peer id derived from the key. */
  peerId: string
  /** Groups of digits to compare by voice. */
  fingerprint: string
  verified: boolean
  /** Milliseconds since the epoch. */
  addedAt: number
  /** Set when the key came from a key server: where, and the log entry it was pinned at. */
  keyserver?: ContactPin
}

/** The key server entry a contact's key was taken from (see keyserver/client/key-pin.ts). */
export interface ContactPin {
  url: string
  username: string
  seq: number
  hash: string
}

interface Row {
  name: string
  user_id: string
  peer_id: string
  verified: number
  added_at: number
  keyserver_url: string | null
  keyserver_username: string | null
  pinned_seq: number | null
  pinned_hash: string | null
}

/** The whole book in memory, as the reads see it. */
interface Snapshot {
  /** Sorted by name, ignoring case. */
  all: Contact[]
  byKey: Map<string, Contact>
  byPeerId: Map<string, Contact>
}

/**
 * The address book: local, unique (case-insensitive) names for users' keys.
 *
 * Reads come from a copy in memory: every session looks its caller or callee
 * up, and a SQLite read there cost ~60 µs of each side's warm connect
 * (docs/BENCHMARKS.md). This book's own writes drop the copy. Another
 * process's commit (a `cspace contacts` command writing the store while the
 * daemon runs) needs `reload`: the CLI asks the daemon to after its writes,
 * and the daemon's store watcher does within a second for any other writer.
 * Writes check clashes against the store itself, never the copy.
 */
export class ContactBook {
  private readonly store: Store
  private snapshot?: Snapshot

  constructor (components: { store: Store }) {
    this.store = components.store
  }

  /** Drops the copy in memory: the next read loads the store's. */
  reload (): void {
    this.snapshot = undefined
  }

  /** Adds a contact; the name and the key must both be new to the book. */
  add (name: string, userIdText: string, pin?: ContactPin): Contact {
    const n = validateNewContactName(name)
    const id = parseUserId(userIdText)
    const peerId = id.peerId.toString()
    return this.write(() => {
      if (this.storedByName(n) != null) throw new ContactNameTaken(n)
      const existing = this.storedByPeerId(peerId)
      if (existing != null) throw new ContactKeyExists(existing.name)
      const addedAt = Date.now()
      this.store.prepare(`INSERT INTO contacts (name, name_key, user_id, peer_id, verified, added_at, keyserver_url, keyserver_username, pinned_seq, pinned_hash)
        VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`)
        .run(n, contactNameKey(n), id.text, peerId, addedAt, pin?.url ?? null, pin?.username ?? null, pin?.seq ?? null, pin?.hash ?? null)
      const c: Contact = { name: n, userId: id.text, peerId, fingerprint: fingerprint(id.publicKey), verified: false, addedAt }
      if (pin != null) c.keyserver = { ...pin }
      return c
    })
  }

  /**
   * Moves a contact's pin forward (the key server's log grew, same key) or,
   * given a new key, switches the contact to it: only after the user accepted
   * a rotation that the pinned key signed. `from` is the pin the decision was
   * made on: if the contact changed meanwhile (another verify), nothing is
   * written. A new key must not be another contact's, and is not "verified":
   * nobody compared its fingerprint.
   */
  repin (name: string, from: ContactPin, pin: ContactPin, newUserId?: string): Contact {
    return this.write(() => {
      const c = this.stored(name)
      let userId = c.userId
      let peerId = c.peerId
      if (newUserId != null) {
        const id = parseUserId(newUserId)
        const other = this.storedByPeerId(id.peerId.toString())
        if (other != null && other.peerId !== c.peerId) throw new ContactKeyExists(other.name)
        userId = id.text
        peerId = id.peerId.toString()
      }
      const changed = this.store.prepare(`UPDATE contacts SET user_id = ?, peer_id = ?, verified = CASE WHEN ? THEN 0 ELSE verified END,
          keyserver_url = ?, keyserver_username = ?, pinned_seq = ?, pinned_hash = ?
        WHERE peer_id = ? AND keyserver_url = ? AND keyserver_username = ? AND pinned_seq = ? AND pinned_hash = ?`)
        .run(userId, peerId, newUserId != null ? 1 : 0, pin.url, pin.username, pin.seq, pin.hash, c.peerId, from.url, from.username, from.seq, from.hash)
      if (Number(changed.changes) !== 1) throw new ContactChanged(c.name)
      return this.stored(c.name)
    })
  }

  /** All contacts, sorted by name, ignoring case. */
  list (): Contact[] {
    return this.read().all.map(copyOf)
  }

  get (name: string): Contact {
    const c = this.find(name)
    if (c == null) throw new ContactNotFound(name)
    return c
  }

  find (name: string): Contact | undefined {
    const c = this.read().byKey.get(contactNameKey(name))
    return c != null ? copyOf(c) : undefined
  }

  findByPeerId (peerId: string): Contact | undefined {
    const c = this.read().byPeerId.get(peerId)
    return c != null ? copyOf(c) : undefined
  }

  /** Removes the contact and returns what it was. */
  remove (name: string): Contact {
    return this.write(() => {
      const c = this.stored(name)
      this.store.prepare('DELETE FROM contacts WHERE peer_id = ?').run(c.peerId)
      return c
    })
  }

  /** Renames a contact; a new name that differs only in case from the old one is allowed. */
  rename (oldName: string, newName: string): Contact {
    const n = validateNewContactName(newName)
    return this.write(() => {
      const c = this.stored(oldName)
      const clash = this.storedByName(n)
      if (clash != null && clash.peerId !== c.peerId) throw new ContactNameTaken(n)
      this.store.prepare('UPDATE contacts SET name = ?, name_key = ? WHERE peer_id = ?').run(n, contactNameKey(n), c.peerId)
      return { ...c, name: n }
    })
  }

  /** Records whether the user has compared the fingerprint with the contact. */
  setVerified (name: string, verified: boolean): Contact {
    return this.write(() => {
      const c = this.stored(name)
      this.store.prepare('UPDATE contacts SET verified = ? WHERE peer_id = ?').run(verified ? 1 : 0, c.peerId)
      return { ...c, verified }
    })
  }

  private read (): Snapshot {
    if (this.snapshot == null) {
      const all = (this.store.prepare('SELECT * FROM contacts ORDER BY name_key').all() as unknown as Row[]).map(toContact)
      this.snapshot = {
        all,
        byKey: new Map(all.map(c => [contactNameKey(c.name), c])),
        byPeerId: new Map(all.map(c => [c.peerId, c]))
      }
    }
    return this.snapshot
  }

  /** A transaction that changes the book; the copy in memory goes, committed or not. */
  private write<T> (fn: () => T): T {
    try {
      return this.store.transaction(fn)
    } finally {
      this.snapshot = undefined
    }
  }

  /** Inside a write: the contact as stored now, not as the copy remembers it. */
  private stored (name: string): Contact {
    const c = this.storedByName(name)
    if (c == null) throw new ContactNotFound(name)
    return c
  }

  private storedByName (name: string): Contact | undefined {
    const row = this.store.prepare('SELECT * FROM contacts WHERE name_key = ?').get(contactNameKey(name)) as Row | undefined
    return row != null ? toContact(row) : undefined
  }

  private storedByPeerId (peerId: string): Contact | undefined {
    const row = this.store.prepare('SELECT * FROM contacts WHERE peer_id = ?').get(peerId) as Row | undefined
    return row != null ? toContact(row) : undefined
  }
}

/** Callers get their own object: the copy in memory is never changed by a reader. */
function copyOf (c: Contact): Contact {
  return c.keyserver != null ? { ...c, keyserver: { ...c.keyserver } } : { ...c }
}

// fingerprints by user ID: decoding the key and hashing it on every read cost
// the warm connect path more than the query (bounded: a contact list, not input)
const fingerprints = new Map<string, string>()
const MAX_CACHED_FINGERPRINTS = 10_000

function fingerprintOf (userId: string): string {
  let print = fingerprints.get(userId)
  if (print == null) {
    print = fingerprint(parseUserId(userId).publicKey)
    if (fingerprints.size >= MAX_CACHED_FINGERPRINTS) fingerprints.clear()
    fingerprints.set(userId, print)
  }
  return print
}

function toContact (r: Row): Contact {
  const c: Contact = {
    name: r.name,
    userId: r.user_id,
    peerId: r.peer_id,
    fingerprint: fingerprintOf(r.user_id),
    verified: r.verified === 1,
    addedAt: r.added_at
  }
  if (r.keyserver_url != null && r.keyserver_username != null && r.pinned_seq != null && r.pinned_hash != null) {
    c.keyserver = { url: r.keyserver_url, username: r.keyserver_username, seq: r.pinned_seq, hash: r.pinned_hash }
  }
  return c
}
