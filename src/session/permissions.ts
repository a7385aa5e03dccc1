import { contactNameKey, validateContactName } from '../contacts/index.js'
import { InvalidRule, InvalidServiceName } from './errors.js'

/**
 * Who may use which service, as in the 2008 original: rules of
 * ACTION × WHO × SERVICE; the user's rules first, then the built-ins; the
 * first match wins.
 */
export type Action = 'allow' | 'deny' | 'prompt'
export type Who = { kind: 'contact', name: string } | { kind: 'contacts' } | { kind: 'anyone' }
export interface Rule { action: Action, who: Who, service: string /* a service name, or '*' */ }
/** The caller as the rules see them: a contact name, or none for a stranger. */
export interface Caller { contactName?: string }

export const BUILT_IN_RULES: readonly Rule[] = Object.freeze([
  { action: 'prompt', who: { kind: 'contacts' }, service: 'desktop' },
  { action: 'allow', who: { kind: 'contacts' }, service: '*' },
  { action: 'prompt', who: { kind: 'anyone' }, service: 'chat' },
  { action: 'deny', who: { kind: 'anyone' }, service: '*' }
])

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
const ACTIONS: readonly string[] = ['allow', 'deny', 'prompt']

export function validateServiceName (name: string): string {
  if (!SERVICE_NAME.test(name)) throw new InvalidServiceName(name)
  return name
}

export function decide (userRules: readonly Rule[], caller: Caller, service: string): { action: Action, rule: Rule, builtIn: boolean } {
  for (const [rules, builtIn] of [[userRules, false], [BUILT_IN_RULES, true]] as const) {
    for (const rule of rules) {
      if (matches(rule, caller, service)) return { action: rule.action, rule, builtIn }
    }
  }
  // unreachable: the last built-in matches everyone and everything
  return { action: 'deny', rule: BUILT_IN_RULES[BUILT_IN_RULES.length - 1], builtIn: true }
}

function matches (rule: Rule, caller: Caller, service: string): boolean {
  if (rule.service !== '*' && rule.service !== service) return false
  switch (rule.who.kind) {
    case 'anyone': return true
    case 'contacts': return caller.contactName != null
    case 'contact': return caller.contactName != null && contactNameKey(caller.contactName) === contactNameKey(rule.who.name)
  }
}

/**
 * Parses the three words of a rule: ACTION WHO SERVICE. WHO is "contacts",
 * "anyone" or a contact name (which need not be in the contact list yet, so a
 * rule can be written before the contact is added).
 */
export function parseRule (action: string, who: string, service: string): Rule {
  // Callers pass API bodies and database rows straight through: check types too.
  if (typeof action !== 'string' || !ACTIONS.includes(action)) throw new InvalidRule(`action ${JSON.stringify(String(action).slice(0, 80))} is not allow, deny or prompt`)
  if (typeof who !== 'string') throw new InvalidRule('WHO must be "contacts", "anyone" or a contact name')
  if (typeof service !== 'string') throw new InvalidRule('SERVICE must be a service name or *')
  if (service !== '*' && !SERVICE_NAME.test(service)) throw new InvalidRule(`${JSON.stringify(service.slice(0, 80))} is not a service name or *`)
  return { action: action as Action, who: parseWho(who), service }
}

function parseWho (who: string): Who {
  if (who === 'contacts' || who === 'anyone') return { kind: who }
  try {
    return { kind: 'contact', name: validateContactName(who) }
  } catch {
    throw new InvalidRule(`WHO ${JSON.stringify(who.slice(0, 80))} is not "contacts", "anyone" or a contact name`)
  }
}

export function formatRule (rule: Rule): string {
  const who = rule.who.kind === 'contact' ? rule.who.name : rule.who.kind
  return `${rule.action} ${who} ${rule.service}`
}
