import type { PeerId } from '@libp2p/interface'
import { looksLikeUserId, parseUserId, type UserId } from '../identity/index.js'
import type { Contact } from '../contacts/index.js'
import { OwnUserIdTarget } from './errors.js'

/** Where contacts are looked up: the contact book, or the daemon's copy of it. */
export interface ContactLookup {
  get: (name: string) => Contact
  findByPeerId: (peerId: string) => Contact | undefined
}

/** What a USER argument names: another user's ID (a contact's or a stranger's), or a contact by name. */
export type NamedUser = { kind: 'id', id: UserId, contact?: Contact } | { kind: 'contact', contact: Contact }

/**
 * Reads a USER argument as connect, forward and hangup take it: a user ID
 * (the original's CONNECTPUBKEY), never one's own, or a contact's name.
 * Throws ContactNotFound for an unknown name, and says what is wrong with a
 * mistyped ID.
 */
export function nameUser (user: string, own: PeerId, contacts: ContactLookup): NamedUser {
  if (looksLikeUserId(user)) {
    const id = parseUserId(user)
    if (id.peerId.equals(own)) throw new OwnUserIdTarget()
    return { kind: 'id', id, contact: contacts.findByPeerId(id.peerId.toString()) }
  }
  try {
    return { kind: 'contact', contact: contacts.get(user) }
  } catch (err) {
    // not a contact, and shaped like the start of an ID: say what is wrong with it as an ID
    if (user.trim().toLowerCase().startsWith('cs1')) parseUserId(user)
    throw err
  }
}
