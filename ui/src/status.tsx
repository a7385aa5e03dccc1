import { useEffect, useState } from 'preact/hooks'
import { del, get, post } from './api'
import type { ConnectionInfo, ContactPresence, Status } from './types'

/**
 * How this node is reached and what it carries: reachability and the routers
 * holding a relay slot for it, each contact's connections (direct or
 * relayed), and the forwards and exposes, which can be added and removed.
 */
export function StatusPanel ({ status, tick, onChange }: { status: Status, tick: number, onChange: () => Promise<void> }) {
  const [connections, setConnections] = useState<ConnectionInfo[]>([])
  useEffect(() => {
    get<{ connections: ConnectionInfo[] }>('/v1/connections').then(r => setConnections(r.connections), () => {})
  }, [tick])
  const withContacts = connections.filter(c => c.contact != null)
  const others = connections.length - withContacts.length
  return (
    <section aria-labelledby="status">
      <h2 id="status">Status</h2>
      {status.node.isolated != null && <p class="problem" role="alert">Not joined to the network: {status.node.isolated}. Retrying; until then contacts cannot be found.</p>}
      <dl>
        <dt>Reachable from the internet</dt>
        <dd>{reachability(status.node.reachability)}</dd>
        <dt>Routers relaying for you</dt>
        <dd>{status.node.relaySlots.length === 0 ? 'none' : <ul>{status.node.relaySlots.map(s => <li key={s.address}><code>{s.router}</code></li>)}</ul>}</dd>
        <dt>Connections</dt>
        <dd>
          {withContacts.length === 0 ? 'none to contacts' : (
            <ul class="connections">
              {withContacts.map(c => <li key={`${c.peerId}-${c.openedAt}`} data-connection={c.contact}>{c.contact}: <strong>{c.relayed ? 'relayed' : 'direct'}</strong>, {c.direction}, <code>{c.remoteAddr.split('/p2p/')[0]}</code></li>)}
            </ul>
          )}
          {others > 0 && <p>and {others} to other cspace nodes (the DHT, routers)</p>}
        </dd>
      </dl>
      <Forwards status={status} contacts={status.contacts} onChange={onChange} />
      <Exposes status={status} onChange={onChange} />
    </section>
  )
}

function reachability (r: string): string {
  if (r === 'public') return 'yes: contacts connect to you directly'
  if (r === 'private') return 'no (behind NAT or a firewall): contacts reach you through a router'
  return r
}

/** Runs a change, shows its refusal, reloads. */
function useAction (onChange: () => Promise<void>): [string | undefined, (what: () => Promise<unknown>) => Promise<boolean>] {
  const [error, setError] = useState<string | undefined>()
  const run = async (what: () => Promise<unknown>): Promise<boolean> => {
    try {
      await what()
      setError(undefined)
      await onChange()
      return true
    } catch (err) {
      setError((err as Error).message)
      return false
    }
  }
  return [error, run]
}

function Forwards ({ status, contacts, onChange }: { status: Status, contacts: ContactPresence[], onChange: () => Promise<void> }) {
  const [port, setPort] = useState('')
  const [contact, setContact] = useState('')
  const [service, setService] = useState('')
  const [error, run] = useAction(onChange)
  const add = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (await run(async () => await post('/v1/forwards', { port: Number(port), contact: contact || (contacts[0]?.name ?? ''), service: service.trim() }))) { setPort(''); setService('') }
  }
  return (
    <div aria-labelledby="forwards">
      <h3 id="forwards">Forwards (a local port to a contact's service)</h3>
      {status.forwards.length === 0
        ? <p>None.</p>
        : (
          <ul>
            {status.forwards.map(f => (
              <li key={f.port} data-forward={f.port}>
                <code>127.0.0.1:{f.port}</code> → {f.contact} / {f.service} {f.listening ? <>({f.active} open){f.lastError != null && <span class="problem"> last error: {f.lastError}</span>}</> : <span class="problem"> not listening: {f.lastError}; tried again at the next start</span>}{' '}
                <button type="button" class="link" onClick={() => { void run(async () => await del(`/v1/forwards/${f.port}`)) }}>Remove forward {f.port}</button>
              </li>
            ))}
          </ul>
          )}
      <form onSubmit={(e) => { void add(e) }}>
        <label for="forward-port">Local port</label>
        <input id="forward-port" inputMode="numeric" pattern="[0-9]+" value={port} onInput={(e) => setPort(e.currentTarget.value)} required />
        <label for="forward-contact">Contact</label>
        <select id="forward-contact" value={contact || (contacts[0]?.name ?? '')} onChange={(e) => setContact(e.currentTarget.value)}>
          {contacts.map(c => <option key={c.name} value={c.name}>{c.name}</option>)}
        </select>
        <label for="forward-service">Their service</label>
        <input id="forward-service" value={service} onInput={(e) => setService(e.currentTarget.value)} required maxLength={64} autocomplete="off" />
        <button type="submit">Add forward</button>
      </form>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </div>
  )
}

/** The daemon's cap on an expose's sessions at once (daemon/exposes.ts MAX_SESSIONS_CAP). */
const MAX_SESSIONS = 65_535

function Exposes ({ status, onChange }: { status: Status, onChange: () => Promise<void> }) {
  const [service, setService] = useState('')
  const [target, setTarget] = useState('')
  const [maxSessions, setMaxSessions] = useState('')
  const [error, run] = useAction(onChange)
  const add = async (e: Event): Promise<void> => {
    e.preventDefault()
    // empty: no cap (the daemon's stream limits still bound it)
    const cap = maxSessions.trim() === '' ? undefined : Number(maxSessions)
    const added = await run(async () => {
      if (cap != null && !(Number.isInteger(cap) && cap >= 1 && cap <= MAX_SESSIONS)) throw new Error(`Sessions at once: a whole number from 1 to ${MAX_SESSIONS}, or empty for no limit.`)
      await post('/v1/exposes', { service: service.trim(), target: target.trim(), ...(cap != null ? { maxSessions: cap } : {}) })
    })
    if (added) { setService(''); setTarget(''); setMaxSessions('') }
  }
  return (
    <div aria-labelledby="exposes">
      <h3 id="exposes">Exposes (a service you offer, and where it goes)</h3>
      {status.exposes.length === 0
        ? <p>None.</p>
        : (
          <ul>
            {status.exposes.map(x => (
              <li key={x.service} data-expose={x.service}>
                {x.service} → {x.kind === 'exec' ? <>runs <code>{x.target}</code></> : <code>{x.target}</code>} ({x.active} open{x.maxSessions != null && <> of at most {x.maxSessions}, {x.refused} refused</>}){' '}
                <button type="button" class="link" onClick={() => { void run(async () => await del(`/v1/exposes/${encodeURIComponent(x.service)}`)) }}>Remove expose {x.service}</button>
              </li>
            ))}
          </ul>
          )}
      <form onSubmit={(e) => { void add(e) }}>
        <label for="expose-service">Service name</label>
        <input id="expose-service" value={service} onInput={(e) => setService(e.currentTarget.value)} required maxLength={64} autocomplete="off" />
        <label for="expose-target">Local address (HOST:PORT)</label>
        <input id="expose-target" value={target} onInput={(e) => setTarget(e.currentTarget.value)} required maxLength={300} autocomplete="off" placeholder="127.0.0.1:8080" />
        <label for="expose-max-sessions">Sessions at once (empty: no limit)</label>
        <input id="expose-max-sessions" inputMode="numeric" pattern="[0-9]+" value={maxSessions} onInput={(e) => setMaxSessions(e.currentTarget.value)} autocomplete="off" />
        <button type="submit">Add expose</button>
      </form>
      <p class="hint">A service that runs a command per session is set up from a terminal: <code>cspace expose SERVICE --exec CMD</code>.</p>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </div>
  )
}
