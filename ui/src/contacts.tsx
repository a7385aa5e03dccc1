import { useState } from 'preact/hooks'
import { post } from './api'
import type { ContactPresence } from './types'

export function Contacts ({ contacts, onChange }: { contacts: ContactPresence[], onChange: () => Promise<void> }) {
  return (
    <section aria-labelledby="contacts">
      <h2 id="contacts">Contacts</h2>
      {contacts.length === 0
        ? <p>No contacts yet. Add one with the ID they gave you.</p>
        : (
          <ul class="contacts">
            {contacts.map(c => (
              <li key={c.name} data-contact={c.name}>
                <span class="name">{c.name}</span>
                <span class={`presence ${c.presence}`}>{c.presence}</span>
              </li>
            ))}
          </ul>
          )}
      <AddContact onAdded={onChange} />
    </section>
  )
}

function AddContact ({ onAdded }: { onAdded: () => Promise<void> }) {
  const [name, setName] = useState('')
  const [userId, setUserId] = useState('')
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await post('/v1/contacts', { name: name.trim(), userId: userId.trim() })
      setName('')
      setUserId('')
      await onAdded()
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={(e) => { void submit(e) }} aria-labelledby="add-contact">
      <h3 id="add-contact">Add a contact</h3>
      <label for="contact-name">Name</label>
      <input id="contact-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={64} autocomplete="off" />
      <label for="contact-id">User ID</label>
      <input id="contact-id" value={userId} onInput={(e) => setUserId(e.currentTarget.value)} required maxLength={2048} autocomplete="off" spellcheck={false} />
      <button type="submit" disabled={busy}>Add contact</button>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </form>
  )
}
