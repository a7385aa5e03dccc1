import { LocalApiClient, looksLikeUserId, parseUserId } from '../../sdk/index.js'
import { UsageError } from '../../errors.js'

export interface ContactEntry { name: string, userId: string, fingerprint: string }

export class UnknownContact extends UsageError {
  constructor (name: string) {
    super(`no contact named ${JSON.stringify(name.slice(0, 80))}; see \`cspace contacts list\` (or pass a user ID), or add one with \`cspace contacts add NAME ID\``, 'CONTACT_NOT_FOUND')
  }
}

export class OwnUserId extends UsageError {
  constructor () {
    super('that is your own user ID; give a contact\'s name or their ID', 'OWN_USER_ID')
  }
}

const CACHE_MS = 2000
const MISS_REFRESH_MS = 200

/**
 * The user's contacts as an app sees them, through the daemon's API: names
 * for user IDs (what the app stores; cached for display) and user IDs for
 * the names people type (never cached).
 */
export class ContactDirectory {
  private readonly api: LocalApiClient
  /** The last list, and when its request was sent. */
  private cache?: { at: number, contacts: ContactEntry[] }
  /** The request in flight: callers meanwhile wait for it rather than send their own. */
  private fetching?: { at: number, contacts: Promise<ContactEntry[]> }
  private ownId?: string

  constructor (options: { home?: string }) {
    this.api = new LocalApiClient(options)
  }

  async list (): Promise<ContactEntry[]> {
    return await this.listSince(Date.now() - CACHE_MS)
  }

  /** Forgets the cached list (a contact was added, removed or renamed). */
  invalidate (): void {
    this.cache = undefined
    this.fetching = undefined
  }

  /**
   * A list asked for at `since` or later: the cached one, the one on its way,
   * or a new request. One request serves every caller waiting, so a burst of
   * lookups (a peer's typing notices, an inbox of unread messages) costs the
   * daemon one request, not one each.
   */
  private async listSince (since: number): Promise<ContactEntry[]> {
    if (this.cache != null && this.cache.at >= since) return this.cache.contacts
    if (this.fetching != null && this.fetching.at >= since) return await this.fetching.contacts
    const fetching = { at: Date.now(), contacts: this.api.get<{ contacts: ContactEntry[] }>('/v1/contacts').then(r => r.contacts) }
    this.fetching = fetching
    try {
      const contacts = await fetching.contacts
      if (this.fetching === fetching) this.cache = { at: fetching.at, contacts } // not if invalidated meanwhile
      return contacts
    } finally {
      if (this.fetching === fetching) this.fetching = undefined
    }
  }

  /** The contact name for a user ID; undefined for a stranger, or when the daemon cannot be asked (a name is for display only). */
  async nameOf (userId: string): Promise<string | undefined> {
    return await this.find(c => c.userId === userId).then(c => c?.name, () => undefined)
  }

  /** Looks in the cached list, and on a miss in a fresh one: a contact may have just been added. */
  async find (match: (c: ContactEntry) => boolean): Promise<ContactEntry | undefined> {
    const hit = (await this.list()).find(match)
    return hit ?? (await this.listSince(Date.now() - MISS_REFRESH_MS)).find(match)
  }

  /**
   * A contact name (case-insensitive) or a user ID → the user ID; throws
   * UnknownContact. Always from a fresh list: what is sent goes to the key
   * the name has now, not a second ago (a contact removed and the name
   * given to someone else).
   */
  async resolve (user: string): Promise<{ userId: string, name?: string }> {
    this.invalidate()
    if (looksLikeUserId(user)) {
      // checked as the CLI checks it (a typo fails its checksum), in the one form stored: one peer, one history
      const userId = parseUserId(user).text
      if (userId === await this.ownUserId()) throw new OwnUserId()
      const contact = await this.find(c => c.userId === userId)
      return contact != null ? { userId, name: contact.name } : { userId }
    }
    const key = user.normalize('NFC').toLowerCase()
    const found = await this.find(c => c.name.normalize('NFC').toLowerCase() === key)
    if (found != null) return { userId: found.userId, name: found.name }
    throw new UnknownContact(user)
  }

  /** This profile's user ID (asked once: a daemon's key does not change while it runs). */
  private async ownUserId (): Promise<string> {
    this.ownId ??= (await this.api.get<{ user: { userId: string } }>('/v1/status?presenceWaitMs=0')).user.userId
    return this.ownId
  }
}
