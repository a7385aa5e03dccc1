import type { Store } from '../store/index.js'
import { CspaceError } from '../errors.js'
import { formatRule, parseRule, type Rule } from './permissions.js'
import { contactNameKey } from '../contacts/index.js'

export interface RuleEntry { id: number, position: number, rule: Rule, text: string }

/**
 * The user's permission rules, in order, persisted in the profile store.
 *
 * Read from memory: every incoming session checks them, and a SQLite read
 * there cost ~45 µs of a warm connect (docs/BENCHMARKS.md). Only the
 * daemon's own RuleBook writes rules while it runs (the CLI and the web UI
 * go through its API), and its writes drop the copy; `reload` is for any other process's
 * commit (the daemon's store watcher).
 */
export class RuleBook {
  private readonly store: Store
  private cached?: readonly RuleEntry[]

  constructor (components: { store: Store }) {
    this.store = components.store
  }

  entries (): RuleEntry[] {
    this.cached ??= this.read()
    return [...this.cached]
  }

  list (): Rule[] {
    return this.entries().map(e => e.rule)
  }

  /** Drops the copy in memory: the next check reads the store. */
  reload (): void {
    this.cached = undefined
  }

  /** Inserts at `position` (0 = checked first; default: last). */
  add (rule: Rule, position?: number): RuleEntry {
    this.cached = undefined
    return this.store.transaction(() => {
      const count = (this.store.prepare('SELECT COUNT(*) AS n FROM rules').get() as { n: number }).n
      const pos = Math.min(position ?? count, count)
      this.store.prepare('UPDATE rules SET position = position + 1 WHERE position >= ?').run(pos)
      const who = rule.who.kind === 'contact' ? rule.who.name : rule.who.kind
      const res = this.store.prepare('INSERT INTO rules (position, action, who, service) VALUES (?, ?, ?, ?)').run(pos, rule.action, who, rule.service)
      return { id: Number(res.lastInsertRowid), position: pos, rule, text: formatRule(rule) }
    })
  }

  remove (id: number): RuleEntry {
    const entry = this.entries().find(e => e.id === id)
    if (entry == null) throw new CspaceError('RULE_NOT_FOUND', `no rule with id ${id}; see \`cspace rules list\``, 2)
    this.cached = undefined
    this.store.transaction(() => {
      this.store.prepare('DELETE FROM rules WHERE id = ?').run(id)
      this.store.prepare('UPDATE rules SET position = position - 1 WHERE position > ?').run(entry.position)
    })
    return entry
  }

  /** The rules written for a contact, by name in any case. */
  naming (name: string): RuleEntry[] {
    const key = contactNameKey(name)
    return this.entries().filter(e => e.rule.who.kind === 'contact' && contactNameKey(e.rule.who.name) === key)
  }

  /** Points the rules naming a contact (in any case) at their new name; returns how many. */
  renameContact (oldName: string, newName: string): number {
    const named = this.naming(oldName)
    this.cached = undefined
    this.store.transaction(() => {
      for (const e of named) this.store.prepare('UPDATE rules SET who = ? WHERE id = ?').run(newName, e.id)
    })
    return named.length
  }

  private read (): RuleEntry[] {
    const rows = this.store.prepare('SELECT id, position, action, who, service FROM rules ORDER BY position, id').all() as Array<{ id: number, position: number, action: string, who: string, service: string }>
    return rows.map(r => {
      const rule = parseRule(r.action, r.who, r.service)
      return { id: r.id, position: r.position, rule, text: formatRule(rule) }
    })
  }
}
