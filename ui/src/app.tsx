import { useEffect, useRef, useState } from 'preact/hooks'
import { followEvents, get, startSession, type Link } from './api'
import type { Contact, DaemonEvent, Rules, Status } from './types'
import { RulesEditor } from './rules'
import { Contacts, type AppsForContacts } from './contacts'
import { Requests } from './requests'
import { AppChannel } from './app-channel'
import { useOutgoing } from './files'
import { IncomingTransfers } from './incoming'
import { StatusPanel } from './status'
import { QrCode } from './qr'
import { DesktopSharing } from './sharing'

type Session = 'starting' | 'none' | 'ok' | 'ended'

export function App () {
  const [session, setSession] = useState<Session>('starting')
  const [status, setStatus] = useState<Status | undefined>()
  const [book, setBook] = useState<Contact[]>([])
  const [rules, setRules] = useState<Rules>({ entries: [], builtIn: [] })
  const [link, setLink] = useState<Link>('reconnecting')
  const [tick, setTick] = useState(0)
  const [problem, setProblem] = useState<string | undefined>()
  const loading = useRef(false)
  const contactPeers = useRef(new Set<string>())
  const again = useRef(false)

  // one status request at a time; changes during it cause one more
  const reload = async (): Promise<void> => {
    if (loading.current) { again.current = true; return }
    loading.current = true
    try {
      do {
        again.current = false
        const [next, { contacts }, nextRules] = await Promise.all([get<Status>('/v1/status?presenceWaitMs=0'), get<{ contacts: Contact[] }>('/v1/contacts'), get<Rules>('/v1/rules')])
        contactPeers.current = new Set(next.contacts.map(c => c.peerId))
        setStatus(next)
        setBook(contacts)
        setRules(nextRules)
        setTick(t => t + 1)
        setProblem(undefined)
      } while (again.current)
    } catch (err) {
      setProblem((err as Error).message)
    } finally {
      loading.current = false
    }
  }

  useEffect(() => {
    let stop: (() => void) | undefined
    startSession().then((ok) => {
      setSession(ok ? 'ok' : 'none')
      if (ok) stop = followEvents((event) => { if (matters(event, contactPeers.current)) void reload() }, setLink, () => setSession('ended'))
    }, (err: Error) => { setSession('none'); setProblem(err.message) })
    return () => stop?.()
  }, [])

  const apps = useApps(session === 'ok')

  if (session === 'starting') return <main><p>Connecting to your cspace daemon…</p></main>
  if (session === 'ended') {
    return (
      <main>
        <h1>cspace</h1>
        <p role="alert">This session has ended (the daemon restarted, or you logged out). Run <code>cspace ui</code> in a terminal and open the new link.</p>
      </main>
    )
  }
  if (session === 'none') {
    return (
      <main>
        <h1>cspace</h1>
        <p>This page needs a login link. In a terminal, run <code>cspace ui</code> and open the link it prints.</p>
        {problem != null && <p role="alert">{problem}</p>}
      </main>
    )
  }
  return (
    <>
      <header>
        <h1>cspace</h1>
        <nav aria-label="Sections">
          <a href="#contacts">Contacts</a> <a href="#rules">Who may use what</a> <a href="#status">Status</a>
        </nav>
        <p class="live" aria-live="polite">{link === 'live' ? 'live' : link === 'reconnecting' ? 'reconnecting…' : 'daemon not answering'}</p>
      </header>
      <main>
        {link === 'unreachable' && (
          <p role="alert" class="problem">
            Your cspace daemon is not answering (stopped, or restarted at another address), so what this page shows may be out of date.
            It keeps trying; if the daemon was restarted, run <code>cspace ui</code> in a terminal and open the new link.
          </p>
        )}
        {problem != null && <p role="alert" class="problem">{problem}</p>}
        {status == null
          ? <p>Loading…</p>
          : (
            <>
              <Identity status={status} />
              <Requests requests={status.requests} onChange={reload} />
              {apps != null && <IncomingTransfers files={apps.files} />}
              {apps != null && <Contacts contacts={status.contacts} book={book} apps={apps} onChange={reload} />}
              {apps != null && <DesktopSharing desktop={apps.desktop} />}
              <RulesEditor rules={rules} onChange={reload} />
              <StatusPanel status={status} tick={tick} onChange={reload} />
            </>
            )}
      </main>
    </>
  )
}

/** The chat and files apps' channels (one each for the page), with what the contact list shows of them. */
function useApps (enabled: boolean): AppsForContacts | undefined {
  const [channels, setChannels] = useState<{ chat: AppChannel, files: AppChannel, desktop: AppChannel } | undefined>()
  const [unread, setUnread] = useState(new Map<string, number>())
  useEffect(() => {
    if (!enabled) return
    const chat = new AppChannel('chat')
    const files = new AppChannel('files')
    const desktop = new AppChannel('desktop')
    setChannels({ chat, files, desktop })
    return () => { chat.close(); files.close(); desktop.close() }
  }, [enabled])
  const refreshUnread = (): void => {
    channels?.chat.request<{ unread: Array<{ peer: string, count: number }> }>('unread')
      .then(r => setUnread(new Map(r.unread.map(u => [u.peer, u.count]))), () => {})
  }
  useEffect(() => {
    if (channels == null) return
    const offOpen = channels.chat.onOpen(refreshUnread)
    const offEvent = channels.chat.onEvent((event) => { if (event === 'message') refreshUnread() })
    return () => { offOpen(); offEvent() }
  }, [channels])
  const outgoing = useOutgoing(channels?.files)
  return channels == null ? undefined : { ...channels, outgoing, unread, onRead: refreshUnread }
}

/**
 * Whether an event changes what the page shows: a DHT server sees peers come
 * and go all the time, and only contacts' connections change their presence.
 * No event (a reconnection, a reset): reload.
 */
function matters (event: DaemonEvent | undefined, contactPeers: Set<string>): boolean {
  if (event == null) return true
  if (event.type === 'peer:connect' || event.type === 'peer:disconnect') return contactPeers.has((event.data as { peerId?: string }).peerId ?? '')
  return true
}

function Identity ({ status }: { status: Status }) {
  return (
    <section aria-labelledby="you">
      <h2 id="you">You</h2>
      <dl>
        <dt>Your ID (give it to your contacts)</dt>
        <dd><code class="id">{status.user.userId}</code></dd>
        <dd><QrToggle userId={status.user.userId} /></dd>
        <dt>Fingerprint (compare it by voice)</dt>
        <dd><code>{status.user.fingerprint}</code></dd>
        <dt>Reachability</dt>
        <dd>{status.node.reachability}</dd>
      </dl>
    </section>
  )
}

/** The ID as a QR code, for a contact to scan from this screen with their phone or camera. */
function QrToggle ({ userId }: { userId: string }) {
  const [shown, setShown] = useState(false)
  return (
    <>
      <button type="button" aria-expanded={shown} onClick={() => setShown(!shown)}>{shown ? 'Hide the QR code' : 'Show my ID as a QR code'}</button>
      {shown && <QrCode text={userId} label={`QR code of your ID, ${userId}`} />}
    </>
  )
}
