import { useEffect, useState } from 'preact/hooks'
import { get, post } from './api'
import { inPageWords } from './page-words'
import type { Contact } from './types'

interface FoundUser { username: string, displayName: string, userId: string, fingerprint: string }

/** Find people by username on the key server (config.json's "keyserver") and add one: verified and pinned by the daemon. */
export function KeyServerSearch ({ onAdded }: { onAdded: () => Promise<void> }) {
  const [prefix, setPrefix] = useState('')
  const [found, setFound] = useState<{ keyserver: string, users: FoundUser[] } | undefined>()
  const [error, setError] = useState<string | undefined>()
  const search = async (e: Event): Promise<void> => {
    e.preventDefault()
    setError(undefined)
    try {
      setFound(await get(`/v1/keyserver/search?prefix=${encodeURIComponent(prefix.trim())}`))
    } catch (err) {
      setFound(undefined)
      setError((err as Error).message)
    }
  }
  const add = async (u: FoundUser): Promise<void> => {
    try {
      await post('/v1/contacts/from-keyserver', { name: u.username, username: u.username })
      setError(undefined)
      setFound(undefined)
      setPrefix('')
      await onAdded()
    } catch (err) {
      setError((err as Error).message)
    }
  }
  return (
    <div aria-labelledby="find-contact">
      <h3 id="find-contact">Find someone on the key server</h3>
      <form onSubmit={(e) => { void search(e) }}>
        <label for="ks-prefix">Username (or its beginning)</label>
        <input id="ks-prefix" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} required maxLength={64} autocomplete="off" spellcheck={false} />
        <button type="submit">Search</button>
      </form>
      {found != null && (found.users.length === 0
        ? <p>No username on {found.keyserver} starts with “{prefix}”.</p>
        : (
          <ul class="found" aria-label={`Found on ${found.keyserver}`}>
            {found.users.map(u => (
              <li key={u.username} data-user={u.username}>
                <strong>{u.username}</strong>{u.displayName !== '' && ` (${u.displayName})`} · fingerprint <code>{u.fingerprint}</code>{' '}
                <button type="button" onClick={() => { void add(u) }}>Add {u.username}</button>
              </li>
            ))}
          </ul>
          ))}
      {error != null && <p role="alert" class="problem">{error}</p>}
    </div>
  )
}

interface PinVerdict { ok: boolean, kind: string, text: string, newFingerprint?: string }

/**
 * For a contact added from a key server: checks it for a key change when the
 * details open (and on request). A change is shown as a warning and never
 * applied by itself; a rotation the pinned key signed can be accepted.
 */
export function PinCheck ({ contact, onChange }: { contact: Contact, onChange: () => Promise<void> }) {
  const [verdict, setVerdict] = useState<PinVerdict | undefined>()
  const [busy, setBusy] = useState(false)
  const path = `/v1/contacts/${encodeURIComponent(contact.name)}/check`
  const check = async (accept: boolean): Promise<void> => {
    setBusy(true)
    try {
      setVerdict(await post<PinVerdict>(path, { accept }))
      if (accept) await onChange()
    } catch (err) {
      setVerdict({ ok: false, kind: 'unreachable', text: (err as Error).message })
    } finally {
      setBusy(false)
    }
  }
  useEffect(() => { void check(false) }, [contact.name, contact.userId])
  return (
    <div class="pin-check">
      {verdict == null
        ? <p>{busy ? 'Checking the key server…' : ''}</p>
        : <p role={verdict.ok ? 'status' : 'alert'} class={verdict.ok ? 'ok' : 'warning'}>{verdict.kind === 'rotated' ? inPageWords('KEY_ROTATED', verdict.text) : verdict.text}</p>}
      <button type="button" disabled={busy} onClick={() => { void check(false) }}>Check the key server again</button>
      {verdict?.kind === 'rotated' && !verdict.ok && <button type="button" disabled={busy} onClick={() => { void check(true) }}>Use {contact.name}'s new key</button>}
    </div>
  )
}
