import { Command } from 'commander'
import { UsageError } from '../../errors.js'
import { LocalApiClient } from '../../sdk/index.js'
import { BUILT_IN_RULES, formatRule, parseRule, RuleBook, type PromptRequest, type Rule, type RuleEntry } from '../../session/index.js'
import { ContactBook } from '../../contacts/index.js'
import type { Store } from '../../store/index.js'
import { daemonUp, tellDaemonStoreChanged, withStore } from '../profile.js'

/**
 * `cspace requests` (pending prompts) and `cspace rules` (who may use which
 * service). Rules are also kept with no daemon running, as contacts and
 * exposes are: the daemon reads them at start, and re-reads the store when
 * another process commits to it.
 */
export function registerRequestCommands (program: Command): void {
  program.command('requests')
    .description('list incoming requests waiting for your answer, or answer one: cspace requests allow|deny ID')
    .argument('[decision]').argument('[id]')
    .option('--json', 'machine-readable output')
    .option('--add-contact <name>', 'with allow: also add the caller to your contacts under NAME (accepts a stranger\'s contact request)')
    .action(async (decision: string | undefined, id: string | undefined, opts: { json?: boolean, addContact?: string }) => {
      if (decision != null && ((decision !== 'allow' && decision !== 'deny') || id == null)) throw new UsageError('usage: cspace requests allow|deny ID')
      if (opts.addContact != null && decision !== 'allow') throw new UsageError('--add-contact goes with `cspace requests allow ID`')
      const api = new LocalApiClient()
      if (opts.addContact != null && id != null) {
        // add first: the contact rule then covers this caller's later sessions too, even after this request expires
        const pending = (await api.get<{ requests: PromptRequest[] }>('/v1/requests')).requests.find(r => r.id === id)
        if (pending == null) throw new UsageError(`no pending request ${id}; see \`cspace requests\``, 'PROMPT_NOT_FOUND')
        await api.post('/v1/contacts', { name: opts.addContact, userId: pending.caller.userId })
        process.stdout.write(`added contact ${opts.addContact}\n`)
      }
      if (decision != null && id != null) {
        const r = await api.post<PromptRequest>(`/v1/requests/${encodeURIComponent(id)}`, { decision })
        process.stdout.write(`${decision === 'allow' ? 'allowed' : 'denied'} ${r.caller.contactName ?? 'stranger'} ${decision === 'allow' ? 'to use' : 'the use of'} ${r.service}\n`)
        return
      }
      const { requests } = await api.get<{ requests: PromptRequest[] }>('/v1/requests')
      if (opts.json === true) { process.stdout.write(JSON.stringify(requests) + '\n'); return }
      if (requests.length === 0) { process.stdout.write('no pending requests\n'); return }
      for (const r of requests) {
        const secs = Math.max(0, Math.round((r.expiresAt - Date.now()) / 1000))
        process.stdout.write(`${r.id}  ${r.caller.contactName ?? 'stranger'} (${r.caller.fingerprint}) wants ${r.service}  [${secs}s left]\n`)
      }
    })

  const rules = program.command('rules').description('permission rules: allow|deny|prompt WHO (a contact, "contacts", "anyone") SERVICE (or "*"); first match wins')
  rules.command('list').option('--json', 'machine-readable output').description('list your rules (checked before the built-in ones)').action(async (opts: { json?: boolean }) => {
    const { entries, builtIn } = await daemonUp()
      ? await new LocalApiClient().get<{ entries: RuleEntry[], builtIn: string[] }>('/v1/rules')
      : withStore((store) => ({ entries: new RuleBook({ store }).entries(), builtIn: BUILT_IN_RULES.map(formatRule) }))
    if (opts.json === true) { process.stdout.write(JSON.stringify(entries) + '\n'); return }
    for (const e of entries) process.stdout.write(`${e.id}\t${e.text}\n`)
    process.stdout.write(`built-in: ${builtIn.join('; ')}\n`)
  })
  rules.command('add <action> <who> <service>').option('--position <n>', 'insert at this position (0 = first)').description('add a rule').action(async (action: string, who: string, service: string, opts: { position?: string }) => {
    const position = opts.position != null ? Number(opts.position) : undefined
    if (position != null && !(Number.isInteger(position) && position >= 0)) throw new UsageError(`--position ${opts.position} is not a position: 0 is checked first, 1 second, …`)
    const e = await daemonUp()
      ? await new LocalApiClient().post<RuleEntry>('/v1/rules', { action, who, service, position })
      : await offline(() => withStore((store) => addRule(store, parseRule(action, who, service), position)))
    process.stdout.write(`${e.id}\t${e.text}\n`)
  })
  rules.command('remove <id>').description('remove a rule by id').action(async (id: string) => {
    if (!/^\d{1,15}$/.test(id)) throw new UsageError(`${JSON.stringify(id.slice(0, 40))} is not a rule id: the first column of \`cspace rules list\``)
    const e = await daemonUp()
      ? await new LocalApiClient().delete<RuleEntry>(`/v1/rules/${encodeURIComponent(id)}`)
      : await offline(() => withStore((store) => new RuleBook({ store }).remove(Number(id))))
    process.stdout.write(`removed ${e.text}\n`)
  })
}

/** No daemon: a rule straight into the store, checked as the daemon checks one. */
function addRule (store: Store, rule: Rule, position?: number): RuleEntry {
  // a rule for a name no contact has would never match: most likely a typo
  if (rule.who.kind === 'contact') new ContactBook({ store }).get(rule.who.name)
  return new RuleBook({ store }).add(rule, position)
}

/** A write to the store with no daemon running; one that started meanwhile is told to re-read it (its rules are read when first used). */
async function offline<T> (write: () => T): Promise<T> {
  const result = write()
  await tellDaemonStoreChanged()
  return result
}
