import { useState } from 'preact/hooks'
import { post } from './api'
import type { PendingRequest } from './types'

/**
 * Incoming connections waiting for the user's answer (the "prompt" rules).
 * A stranger can be let in and added as a contact in one step, as
 * `cspace requests allow ID --add-contact NAME` does: otherwise what they
 * send (a chat message) has no contact to show up under.
 */
export function Requests ({ requests, onChange }: { requests: PendingRequest[], onChange: () => Promise<void> }) {
  const [error, setError] = useState<string | undefined>()
  const [names, setNames] = useState<Record<string, string>>({})
  if (requests.length === 0) return null
  const answer = async (id: string, decision: 'allow' | 'deny'): Promise<void> => {
    try {
      await post(`/v1/requests/${encodeURIComponent(id)}`, { decision })
      setError(undefined)
    } catch (err) {
      setError((err as Error).message)
    }
    await onChange()
  }
  const allowAndAdd = async (e: Event, r: PendingRequest): Promise<void> => {
    e.preventDefault()
    try {
      // added first: a name refused leaves the request waiting, to try another
      await post('/v1/contacts', { name: (names[r.id] ?? '').trim(), userId: r.caller.userId })
    } catch (err) {
      setError((err as Error).message)
      return
    }
    await answer(r.id, 'allow')
  }
  return (
    <section aria-labelledby="requests">
      <h2 id="requests">Waiting for your answer</h2>
      <ul>
        {requests.map(r => (
          <li key={r.id}>
            <p><strong>{r.caller.contactName ?? 'A stranger'}</strong> ({r.caller.fingerprint}) wants to use <strong>{r.service}</strong>.</p>
            {r.caller.contactName == null && <p>Their ID: <code class="id">{r.caller.userId}</code></p>}
            <button type="button" onClick={() => { void answer(r.id, 'allow') }}>Allow</button>
            <button type="button" onClick={() => { void answer(r.id, 'deny') }}>Deny</button>
            {r.caller.contactName == null && (
              <form onSubmit={(e) => { void allowAndAdd(e, r) }}>
                <label for={`request-${r.id}-name`}>Or allow, and add them to your contacts as</label>
                <input id={`request-${r.id}-name`} value={names[r.id] ?? ''} required autocomplete="off"
                  onInput={(e) => { const v = e.currentTarget.value; setNames(all => ({ ...all, [r.id]: v })) }} />
                <button type="submit">Allow and add</button>
              </form>
            )}
          </li>
        ))}
      </ul>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </section>
  )
}
