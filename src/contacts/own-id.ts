import type { PeerId } from '@libp2p/interface'
import { looksLikeUserId, parseUserId } from '../identity/index.js'
import { OwnIdAsContact } from './errors.js'

/**
 * Refuses the user's own ID as a contact's: it could never be reached (a
 * node does not dial itself). A malformed ID is left to the contact book,
 * which says what is wrong with it.
 */
export function refuseOwnId (userIdText: string, own: PeerId): void {
  if (!looksLikeUserId(userIdText)) return
  let theirs: PeerId
  try { theirs = parseUserId(userIdText).peerId } catch { return }
  if (theirs.equals(own)) throw new OwnIdAsContact()
}
