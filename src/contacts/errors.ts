import { CspaceError, UsageError } from '../errors.js'

export class ContactNotFound extends CspaceError {
  constructor (name: string) {
    super('CONTACT_NOT_FOUND', `no contact named "${name}"; see \`cspace contacts list\``)
  }
}

export class ContactNameTaken extends UsageError {
  constructor (name: string) {
    super(`the name "${name}" is already a contact; choose another name or remove that contact first`, 'CONTACT_NAME_TAKEN')
  }
}

export class ContactKeyExists extends UsageError {
  constructor (existing: string) {
    super(`this key is already your contact "${existing}"; use \`cspace contacts rename ${existing} NEWNAME\` to rename it`, 'CONTACT_KEY_EXISTS')
  }
}

export class InvalidContactName extends UsageError {
  constructor (name: string, why: string) {
    super(`"${name.slice(0, 80)}" cannot be a contact name: ${why} (use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit)`, 'INVALID_CONTACT_NAME')
  }
}
