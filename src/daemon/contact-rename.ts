import type { ForwardRecord, ForwardTable, Store } from '../store/index.js'
import { contactNameKey, type Contact, type ContactBook } from '../contacts/index.js'
import type { RuleBook } from '../session/index.js'

/** A renamed contact, and how many rules and saved forwards followed them. */
export interface ContactRenamed { contact: Contact, rules: number, forwards: number }

/**
 * Renames a contact together with what names them: the permission rules
 * written for them and the saved forwards to them follow, in one
 * transaction. Left behind, a rule would apply to whoever is next given the
 * old name, and a forward would fail (or reach that other person).
 * The daemon's API and the CLI (with no daemon running) both use it.
 */
export function renameContactEverywhere (parts: { store: Store, contacts: ContactBook, rules: RuleBook, forwards: ForwardTable }, oldName: string, newName: string): ContactRenamed {
  return parts.store.transaction(() => {
    const contact = parts.contacts.rename(oldName, newName)
    const rules = parts.rules.renameContact(oldName, contact.name)
    const forwards = forwardsNaming(parts.forwards, oldName)
    for (const f of forwards) parts.forwards.put({ ...f, contact: contact.name })
    return { contact, rules, forwards: forwards.length }
  })
}

/** What still names a contact just removed: it applies to whoever is next given the name. */
export function stillNaming (parts: { rules: RuleBook, forwards: ForwardTable }, name: string): { rules: number, forwards: number } {
  return { rules: parts.rules.naming(name).length, forwards: forwardsNaming(parts.forwards, name).length }
}

function forwardsNaming (table: ForwardTable, name: string): ForwardRecord[] {
  return table.list().filter(f => contactNameKey(f.contact) === contactNameKey(name))
}
