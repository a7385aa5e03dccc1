import { useState } from 'preact/hooks'
import { del, post } from './api'
import type { Contact, ContactPresence } from './types'

export function Contacts ({ contacts, book, onChange }: { contacts: ContactPresence[], book: Contact[], onChange: () => Promise<void> }) {
  const [open, setOpen] = useState<string | undefined>()
  return (
    <section aria-labelledby="contacts">
      <h2 id="contacts">Contacts</h2>
      {contacts.length === 0
        ? <p>No contacts yet. Add one with the ID they gave you.</p>
        : (
          <ul class="contacts">
            {contacts.map(c => {
              const entry = book.find(b => b.name === c.name)
              const expanded = open === c.name
              return (
                <li key={c.name} data-contact={c.name}>
                  <div class="row">
                    <button type="button" class="link" aria-expanded={expanded} aria-controls={`contact-${c.name}`} onClick={() => setOpen(expanded ? undefined : c.name)}>
                      {c.name}
                    </button>
                    <span class={`presence ${c.presence}`}>{c.presence}</span>
                  </div>
                  {expanded && entry != null && <ContactDetails id={`contact-${c.name}`} contact={entry} onChange={onChange} onGone={() => setOpen(undefined)} />}
                </li>
              )
            })}
          </ul>
          )}
      <AddContact onAdded={onChange} />
    </section>
  )
}

/** One contact: what to compare by voice, where the key came from, rename and remove. */
function ContactDetails ({ id, contact, onChange, onGone }: { id: string, contact: Contact, onChange: () => Promise<void>, onGone: () => void }) {
  const [newName, setNewName] = useState(contact.name)
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const act = async (what: () => Promise<unknown>): Promise<void> => {
    setError(undefined)
    try {
      await what()
      onGone()
      await onChange()
    } catch (err) {
      setError((err as Error).message)
    }
  }
  const path = `/v1/contacts/${encodeURIComponent(contact.name)}`
  return (
    <div id={id} class="details">
      <dl>
        <dt>Fingerprint (compare it with {contact.name} by voice)</dt>
        <dd><code>{contact.fingerprint}</code></dd>
        <dt>User ID</dt>
        <dd><code class="id">{contact.userId}</code></dd>
        <dt>Key</dt>
        <dd>{contact.keyserver != null ? `from the key server ${contact.keyserver.url} as ${contact.keyserver.username}, pinned` : 'added by ID'}{contact.verified ? ', verified' : ''}</dd>
      </dl>
      <form onSubmit={(e) => { e.preventDefault(); void act(async () => await post(`${path}/rename`, { newName: newName.trim() })) }}>
        <label for={`${id}-rename`}>New name for {contact.name}</label>
        <input id={`${id}-rename`} value={newName} onInput={(e) => setNewName(e.currentTarget.value)} required maxLength={64} autocomplete="off" />
        <button type="submit">Rename</button>
      </form>
      {confirming
        ? (
          <p>
            Remove {contact.name}? Their sessions stop being allowed as a contact's.{' '}
            <button type="button" onClick={() => { void act(async () => await del(path)) }}>Yes, remove</button>
            <button type="button" onClick={() => setConfirming(false)}>No</button>
          </p>
          )
        : <button type="button" onClick={() => setConfirming(true)}>Remove {contact.name}…</button>}
      {error != null && <p role="alert" class="problem">{error}</p>}
    </div>
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
