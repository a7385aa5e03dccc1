import { useState } from 'preact/hooks'
import { del, post } from './api'
import type { Contact, ContactPresence, OutgoingView } from './types'
import type { AppChannel } from './app-channel'
import { ChatPanel } from './chat'
import { KeyServerSearch, PinCheck } from './keyserver'
import { QrScanner } from './qr-scan'
import { FilesPanel } from './files'
import { DesktopView } from './desktop'

type Tab = 'details' | 'chat' | 'files' | 'desktop'
/** Each contact's buttons; `whose` ends their name for a screen reader, which lists every contact's together ("Chat with bob"). */
const TABS: Array<{ tab: Exclude<Tab, 'details'>, label: string, whose: string }> = [
  { tab: 'chat', label: 'Chat', whose: 'with' },
  { tab: 'files', label: 'Files', whose: 'with' },
  { tab: 'desktop', label: 'Desktop', whose: 'of' }
]

export interface AppsForContacts {
  chat: AppChannel
  files: AppChannel
  desktop: AppChannel
  outgoing: OutgoingView[]
  /** Unread chat messages by user ID. */
  unread: Map<string, number>
  /** Called when a conversation marked messages read. */
  onRead: () => void
}

/** The contact list: presence, unread counts, and per contact its details, chat, files and desktop. */
export function Contacts ({ contacts, book, apps, onChange }: { contacts: ContactPresence[], book: Contact[], apps: AppsForContacts, onChange: () => Promise<void> }) {
  const [open, setOpen] = useState<{ name: string, tab: Tab } | undefined>()
  const toggle = (name: string, tab: Tab): void => setOpen(open?.name === name && open.tab === tab ? undefined : { name, tab })
  // Escape closes a contact's panel and gives focus back to the button that opened it
  const onKeyDown = (e: KeyboardEvent): void => {
    if (e.key !== 'Escape' || open == null) return
    const opener = (e.currentTarget as HTMLElement).querySelector<HTMLButtonElement>(`button[data-tab="${open.tab}"]`)
    setOpen(undefined)
    opener?.focus()
  }
  // a contact removed or renamed takes its row, and the focus in it, away: the focus goes to the list's heading
  const gone = (): void => {
    setOpen(undefined)
    document.getElementById('contacts')?.focus()
  }
  return (
    <section aria-labelledby="contacts">
      <h2 id="contacts" tabIndex={-1}>Contacts</h2>
      {contacts.length === 0
        ? <p>No contacts yet. Add one with the ID they gave you.</p>
        : (
          <ul class="contacts">
            {contacts.map(c => {
              const entry = book.find(b => b.name === c.name)
              const unread = entry != null ? apps.unread.get(entry.userId) ?? 0 : 0
              const panel = `contact-${c.name}`
              const showing = open?.name === c.name ? open.tab : undefined
              return (
                <li key={c.name} data-contact={c.name} onKeyDown={showing != null ? onKeyDown : undefined}>
                  <div class="row">
                    <button type="button" class="link" data-tab="details" aria-expanded={showing === 'details'} aria-controls={panel} onClick={() => toggle(c.name, 'details')}>
                      {c.name}
                    </button>
                    <span class="actions">
                      {TABS.map(t => (
                        <button key={t.tab} type="button" data-tab={t.tab} aria-expanded={showing === t.tab} aria-controls={panel} onClick={() => toggle(c.name, t.tab)}>
                          {t.label}<span class="sr-only"> {t.whose} {c.name}</span>{t.tab === 'chat' && unread > 0 ? <span class="badge"> · {unread} unread</span> : null}
                        </button>
                      ))}
                    </span>
                    <span class={`presence ${c.presence}`} title={c.presence === 'unreachable' ? 'lost the connection, and they do not answer a dial' : undefined}>{c.presence}</span>
                  </div>
                  {showing === 'details' && entry != null && <ContactDetails id={panel} contact={entry} onChange={onChange} onGone={gone} />}
                  {showing === 'chat' && <ChatPanel id={panel} contact={c.name} chat={apps.chat} onRead={apps.onRead} />}
                  {showing === 'files' && <FilesPanel id={panel} contact={c.name} files={apps.files} outgoing={apps.outgoing} />}
                  {showing === 'desktop' && <div id={panel}><DesktopView contact={c.name} /></div>}
                </li>
              )
            })}
          </ul>
          )}
      <AddContact onAdded={onChange} />
      <KeyServerSearch onAdded={onChange} />
    </section>
  )
}

/** One contact: what to compare by voice, where the key came from, rename and remove. */
function ContactDetails ({ id, contact, onChange, onGone }: { id: string, contact: Contact, onChange: () => Promise<void>, onGone: () => void }) {
  const [newName, setNewName] = useState(contact.name)
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const act = async (what: () => Promise<unknown>, closes = true): Promise<void> => {
    setError(undefined)
    try {
      await what()
      if (closes) onGone()
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
        <dd>{contact.keyserver != null ? `from the key server ${contact.keyserver.url} as ${contact.keyserver.username}, pinned` : 'added by ID'}</dd>
        <dt>Verified</dt>
        <dd>
          {contact.verified ? 'yes: you compared the fingerprint with them' : 'not yet: compare the fingerprint with them in person or by phone'}{' '}
          <button type="button" onClick={() => { void act(async () => await post(`${path}/verified`, { verified: !contact.verified }), false) }}>
            {contact.verified ? 'Mark as not verified' : `I compared it with ${contact.name}: mark verified`}
          </button>
        </dd>
      </dl>
      {contact.keyserver != null && <PinCheck contact={contact} onChange={onChange} />}
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
  const [scanning, setScanning] = useState(false)
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
      {scanning
        ? <QrScanner onId={(id) => { setUserId(id); setScanning(false) }} onClose={() => setScanning(false)} />
        : <button type="button" onClick={() => setScanning(true)}>Scan their QR code</button>}
      <button type="submit" disabled={busy}>Add contact</button>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </form>
  )
}

