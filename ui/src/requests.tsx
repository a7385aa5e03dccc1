import { useState } from 'preact/hooks'
import { post } from './api'
import type { PendingRequest } from './types'

/** Incoming connections waiting for the user's answer (the "prompt" rules). */
export function Requests ({ requests, onChange }: { requests: PendingRequest[], onChange: () => Promise<void> }) {
  const [error, setError] = useState<string | undefined>()
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
  return (
    <section aria-labelledby="requests">
      <h2 id="requests">Waiting for your answer</h2>
      <ul>
        {requests.map(r => (
          <li key={r.id}>
            <p><strong>{r.caller.contactName ?? 'A stranger'}</strong> ({r.caller.fingerprint}) wants to use <strong>{r.service}</strong>.</p>
            <button type="button" onClick={() => { void answer(r.id, 'allow') }}>Allow</button>
            <button type="button" onClick={() => { void answer(r.id, 'deny') }}>Deny</button>
          </li>
        ))}
      </ul>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </section>
  )
}
