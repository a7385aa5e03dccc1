import { Command } from 'commander'
import { LocalApiClient } from '../../sdk/index.js'
import { ContactBook } from '../../contacts/index.js'
import { DaemonNotRunning } from '../../daemon/errors.js'
import { fingerprint, readPublicKey, userIdFromPublicKey } from '../../identity/index.js'
import { RuleBook } from '../../session/index.js'
import { ExposeTable, ForwardTable } from '../../store/index.js'
import { cliProfile, daemonUp, withStore } from '../profile.js'
import type { ContactPresence } from '../../daemon/presence-tracker.js'
import type { ForwardState } from '../../daemon/forwards.js'
import type { ExposeState } from '../../daemon/exposes.js'
import type { PromptRequest } from '../../session/index.js'
import type { ConnectionInfo } from '../../daemon/connection-info.js'
import { unreadCounts } from '../../apps/chat/index.js'

export interface StatusReply {
  user: { userId: string, peerId: string, fingerprint: string }
  node: {
    router: boolean
    addresses: string[]
    /** No address the daemon would publish: all loopback or LAN, without --allow-private-addresses. */
    onlyPrivateAddresses: boolean
    dhtMode: string
    connections: number
    /** Why the node is alone: no connection, and its bootstrap addresses did not answer (retried); null when joined. */
    isolated: string | null
    /** From a router's dial-back: public (reachable directly), private (NAT or firewall), or not asked yet. */
    reachability: 'unknown' | 'public' | 'private'
    /** Routers this daemon holds a relay slot on. */
    relaySlots: Array<{ router: string, address: string }>
    /** A router: users holding a slot on it; otherwise null. */
    relayedFor: number | null
    /** A router: bytes forwarded for relayed connections since start; otherwise null. */
    relayedBytes: number | null
  }
  presence: { seq: number, addresses: string[], peers: number, at: number } | null
  contacts: ContactPresence[]
  forwards: ForwardState[]
  exposes: ExposeState[]
  requests: PromptRequest[]
}

const REACHABILITY_TEXT = {
  unknown: 'not known yet (no router has dialled back)',
  public: 'yes, directly (a router dialled back)',
  private: 'not directly (NAT or firewall): through routers'
}

/** `cspace status`: the daemon's view of this node, contacts' presence and tunnels. */
export function registerStatusCommand (program: Command): void {
  program.command('status')
    .description('show the node, its addresses, contacts with presence, forwards and exposes')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      if (opts.json !== true && !await daemonUp()) {
        // what is saved still shows (an expose or forward made with no daemon says it was saved); then why nothing runs
        process.stdout.write(savedSettings().join('\n') + '\n')
        throw new DaemonNotRunning(cliProfile().home)
      }
      const s = await new LocalApiClient().get<StatusReply>('/v1/status')
      // unread chat messages come from the chat app's own service (absent with --no-apps)
      const unread = await unreadCounts({})
      if (opts.json === true) { process.stdout.write(JSON.stringify({ ...s, chat: unread == null ? null : { unread } }) + '\n'); return }
      const out: string[] = []
      out.push(`user        ${s.user.userId}${s.node.router ? ' (router)' : ''}`)
      out.push(`peer id     ${s.user.peerId}`)
      out.push(`fingerprint ${s.user.fingerprint}`)
      out.push(`dht         ${s.node.dhtMode}, ${s.node.connections} connection(s)`)
      if (s.node.isolated != null) out.push(`network     not joined: ${s.node.isolated}; retrying`)
      out.push(`presence    ${s.presence == null ? `not yet published${s.node.onlyPrivateAddresses ? ONLY_PRIVATE_HINT : ''}` : `published to ${s.presence.peers} peer(s), seq ${s.presence.seq}`}`)
      if (!s.node.router) out.push(`reachable   ${REACHABILITY_TEXT[s.node.reachability]}`)
      if (s.node.relayedFor != null) out.push(`relay       serving ${s.node.relayedFor} user(s) holding a slot; ${((s.node.relayedBytes ?? 0) / 1048576).toFixed(1)} MiB relayed`)
      for (const r of s.node.relaySlots) out.push(`relay slot  on router ${r.router}`)
      for (const a of s.node.addresses) out.push(`listen      ${a}`)
      out.push('', 'contacts')
      if (s.contacts.length === 0) out.push('  (none)')
      for (const c of s.contacts) {
        const via = c.connections.length > 0 ? ` via ${c.connections.map(x => `${x.relayed ? 'relay' : 'direct'} ${x.remoteAddr}`).join(', ')}` : ''
        out.push(`  ${c.name.padEnd(16)} ${c.presence}${c.presence === 'unreachable' ? ' (lost the connection, and it does not answer a dial)' : ''}${via}`)
      }
      if (unread != null && unread.length > 0) {
        out.push('', 'unread messages (read them with `cspace chat NAME` or `cspace chat --inbox`)')
        for (const u of unread) out.push(`  ${(u.name ?? `${u.peer.slice(0, 12)}… (not a contact)`).padEnd(16)} ${u.count}`)
      }
      out.push('', 'forwards')
      if (s.forwards.length === 0) out.push('  (none)')
      for (const f of s.forwards) {
        out.push(`  127.0.0.1:${f.port} -> ${f.contact}/${f.service}  ` + (f.listening
          ? `(${f.active} open, ${f.total} total${f.lastError != null ? `, last error: ${f.lastError}` : ''})`
          : `(saved, not listening: ${f.lastError ?? 'not started'}; tried again at the next start)`))
      }
      out.push('', 'exposes')
      if (s.exposes.length === 0) out.push('  (none)')
      for (const e of s.exposes) {
        const cap = e.maxSessions != null ? ` of at most ${e.maxSessions}, ${e.refused} refused` : ''
        out.push(`  ${e.service.padEnd(16)} -> ${e.kind === 'exec' ? `exec ${e.target}` : e.target}  (${e.active} open${cap}, ${e.total} total)`)
      }
      if (s.requests.length > 0) {
        out.push('', 'pending requests (answer with `cspace requests allow|deny ID`)')
        for (const r of s.requests) out.push(`  ${r.id}  ${r.caller.contactName ?? 'stranger'} wants ${r.service}`)
      }
      process.stdout.write(out.join('\n') + '\n')
    })
}

/** With no daemon: the identity, contacts, saved tunnels and rules, read from the profile. */
function savedSettings (): string[] {
  return withStore((store, paths) => {
    const key = readPublicKey(paths.keyFile)
    const out = [`user        ${userIdFromPublicKey(key).text}`, `fingerprint ${fingerprint(key)}`, 'daemon      not running: no presence, connections or tunnels', '', 'contacts']
    const contacts = new ContactBook({ store }).list()
    if (contacts.length === 0) out.push('  (none)')
    for (const c of contacts) out.push(`  ${c.name.padEnd(16)} ${c.fingerprint}`)
    out.push('', 'forwards (saved; they listen when the daemon starts)')
    const forwards = new ForwardTable(store).list()
    if (forwards.length === 0) out.push('  (none)')
    for (const f of forwards) out.push(`  127.0.0.1:${f.port} -> ${f.contact}/${f.service}`)
    out.push('', 'exposes (saved; offered when the daemon starts)')
    const exposes = new ExposeTable(store).list()
    if (exposes.length === 0) out.push('  (none)')
    for (const e of exposes) out.push(`  ${e.service.padEnd(16)} -> ${e.kind === 'exec' ? `exec ${e.target}` : e.target}${e.maxSessions != null ? `  (at most ${e.maxSessions} sessions at once)` : ''}`)
    const rules = new RuleBook({ store }).entries().length
    out.push('', `rules       ${rules} of your own${rules > 0 ? '; see `cspace rules list`' : ''}`)
    return out
  })
}

/** `cspace connections`: every open peer connection (contacts and DHT peers), direct or relayed. */
export function registerConnectionsCommand (program: Command): void {
  program.command('connections')
    .description('list open connections to other nodes: contact, address, direct or relayed, streams')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { connections } = await new LocalApiClient().get<{ connections: ConnectionInfo[] }>('/v1/connections')
      if (opts.json === true) { process.stdout.write(JSON.stringify(connections) + '\n'); return }
      if (connections.length === 0) { process.stdout.write('no open connections\n'); return }
      const now = Date.now()
      const rows = connections.map(c => [
        c.contact ?? `${c.peerId.slice(0, 12)}…`,
        c.relayed ? 'relayed' : 'direct',
        c.direction,
        `${c.streams} stream(s)`,
        `${Math.round((now - c.openedAt) / 1000)} s`,
        c.remoteAddr
      ])
      const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
      process.stdout.write(rows.map(r => r.map((x, i) => i === r.length - 1 ? x : x.padEnd(widths[i])).join('  ')).join('\n') + '\n')
    })
}

/** `cspace hangup USER`: close every connection to USER now. */
export function registerHangupCommand (program: Command): void {
  program.command('hangup <user>')
    .description('close every connection to USER (a contact name or a user ID), ending its sessions; the next connect dials afresh')
    .action(async (user: string) => {
      const { closed } = await new LocalApiClient().post<{ closed: number }>('/v1/hangup', { user })
      process.stdout.write(`closed ${closed} connection(s) to ${user}\n`)
    })
}

const ONLY_PRIVATE_HINT = ' (this daemon has only loopback or LAN addresses, which are not published; on a LAN or one machine start every daemon with --allow-private-addresses)'

