import { LocalApiClient } from '../../sdk/index.js'
import { CspaceError } from '../../errors.js'

export interface ContactEntry { name: string, userId: string, fingerprint: string }

export class UnknownContact extends CspaceError {
  constructor (name: string) {
    super('CONTACT_NOT_FOUND', `no contact named ${JSON.stringify(name.slice(0, 80))}; see \`cspace contacts list\`, or add one with \`cspace contacts add NAME ID\``, 2)
  }
}

/** A user ID is one long token; contact names are short (≤ 64). */
const USER_ID_MIN_LENGTH = 40
const CACHE_MS = 2000
const MISS_REFRESH_MS = 200

/**
 * The user's contacts as an app sees them, through the daemon's API: names
 * for user IDs (what the app stores) and user IDs for the names people type.
 */
export class ContactDirectory {
  private readonly api: LocalApiClient
  private cache?: { at: number, contacts: ContactEntry[] }

  constructor (options: { home?: string }) {
    this.api = new LocalApiClient(options)
  }

  async list (): Promise<ContactEntry[]> {
    if (this.cache != null && Date.now() - this.cache.at < CACHE_MS) return this.cache.contacts
    const { contacts } = await this.api.get<{ contacts: ContactEntry[] }>('/v1/contacts')
    this.cache = { at: Date.now(), contacts }
    return contacts
  }

  /** Forgets the cached list (a contact was added, removed or renamed). */
  invalidate (): void {
    this.cache = undefined
  }

  async nameOf (userId: string): Promise<string | undefined> {
    return (await this.find(c => c.userId === userId))?.name
  }

  /** Looks in the cached list, and on a miss in a fresh one: a contact may have just been added. */
  async find (match: (c: ContactEntry) => boolean): Promise<ContactEntry | undefined> {
    const hit = (await this.list()).find(match)
    if (hit != null || this.cache == null || Date.now() - this.cache.at < MISS_REFRESH_MS) return hit
    this.invalidate()
    return (await this.list()).find(match)
  }

  /** A contact name (case-insensitive) or a user ID → the user ID; throws UnknownContact. */
  async resolve (user: string): Promise<{ userId: string, name?: string }> {
    const key = user.normalize('NFC').toLowerCase()
    const found = await this.find(c => c.name.normalize('NFC').toLowerCase() === key || c.userId === user)
    if (found != null) return { userId: found.userId, name: found.name }
    if (user.length >= USER_ID_MIN_LENGTH && !/\s/.test(user)) return { userId: user }
    throw new UnknownContact(user)
  }
}
