import { useState } from 'preact/hooks'
import { del, post } from './api'
import type { Rules } from './types'

/** The permission rules: who may use which service. The first rule that matches a caller decides. */
export function RulesEditor ({ rules, onChange }: { rules: Rules, onChange: () => Promise<void> }) {
  const [action, setAction] = useState('allow')
  const [who, setWho] = useState('')
  const [service, setService] = useState('')
  const [error, setError] = useState<string | undefined>()
  const act = async (what: () => Promise<unknown>): Promise<boolean> => {
    setError(undefined)
    try {
      await what()
      await onChange()
      return true
    } catch (err) {
      setError((err as Error).message)
      return false
    }
  }
  const add = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (await act(async () => await post('/v1/rules', { action, who: who.trim(), service: service.trim() }))) {
      setWho('')
      setService('')
    }
  }
  return (
    <section aria-labelledby="rules">
      <h2 id="rules">Who may use what</h2>
      <p>Checked in order; the first rule that matches a caller decides.</p>
      <ol class="rules">
        {rules.entries.map(r => (
          <li key={r.id} data-rule={r.text}>
            <code>{r.text}</code>{' '}
            <button type="button" onClick={() => { void act(async () => await del(`/v1/rules/${r.id}`)) }}>Remove rule “{r.text}”</button>
          </li>
        ))}
        {rules.builtIn.map(text => <li key={text} class="builtin"><code>{text}</code> (built in)</li>)}
      </ol>
      <form onSubmit={(e) => { void add(e) }} aria-labelledby="add-rule">
        <h3 id="add-rule">Add a rule (checked before the built-ins)</h3>
        <label for="rule-action">Action</label>
        <select id="rule-action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
          <option value="allow">allow</option>
          <option value="prompt">ask me (prompt)</option>
          <option value="deny">deny</option>
        </select>
        <label for="rule-who">Who (a contact's name, contacts, or anyone)</label>
        <input id="rule-who" value={who} onInput={(e) => setWho(e.currentTarget.value)} required maxLength={64} autocomplete="off" />
        <label for="rule-service">Service (a name, or * for every service)</label>
        <input id="rule-service" value={service} onInput={(e) => setService(e.currentTarget.value)} required maxLength={64} autocomplete="off" />
        <button type="submit">Add rule</button>
      </form>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </section>
  )
}
