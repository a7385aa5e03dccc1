import { CspaceError, UsageError } from '../errors.js'

export class ContactNotFound extends CspaceError {
  constructor (name: string) {
    super('CONTACT_NOT_FOUND', `no contact named ${quote(name)}; see \`cspace contacts list\``, 2)
  }
}

export class ContactNameTaken extends UsageError {
  constructor (name: string) {
    super(`the name "${name}" is already a contact; choose another name or remove that contact first`, 'CONTACT_NAME_TAKEN')
  }
}

/** The key is in the address book under another name; the message names it. */
export class ContactKeyExists extends UsageError {
  readonly existing: string

  constructor (existing: string) {
    super(`this key is already your contact "${existing}"; use \`cspace contacts rename ${existing} NEWNAME\` to rename it`, 'CONTACT_KEY_EXISTS')
    this.existing = existing
  }
}

/** Your own ID as a contact could never be reached (a node does not dial itself). */
export class OwnIdAsContact extends UsageError {
  constructor () {
    super('that is your own ID (`cspace id`); a contact is someone else\'s', 'OWN_ID_AS_CONTACT')
  }
}

/** The contact was changed by someone else (another `contacts verify`) while a decision about it was being made. */
export class ContactChanged extends CspaceError {
  constructor (name: string) {
    super('CONTACT_CHANGED', `${quote(name)} changed while it was being checked; nothing was written, run the command again`)
  }
}

export class InvalidContactName extends UsageError {
  constructor (name: string, why: string) {
    super(`${quote(name)} cannot be a contact name: ${why} (use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit)`, 'INVALID_CONTACT_NAME')
  }
}

/** Quotes user input for a one-line message: escapes control characters, cuts it short. */
function quote (text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)
}
