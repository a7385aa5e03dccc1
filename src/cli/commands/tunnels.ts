import { Command } from 'commander'
import { CspaceError, UsageError } from '../../errors.js'
import { LocalApiClient } from '../../sdk/index.js'
import { ExposeTable, ForwardTable, type ForwardRecord } from '../../store/index.js'
import { nameUser, validateServiceName } from '../../session/index.js'
import { ContactBook, contactNameKey } from '../../contacts/index.js'
import { readPublicKey, userIdFromPublicKey } from '../../identity/index.js'
import { ForwardNotFound, PortForwarded } from '../../daemon/errors.js'
import { checkExecCommand, splitHostPort } from '../../daemon/host-port.js'
import { MAX_SESSIONS_CAP } from '../../daemon/exposes.js'
import { applyOrSave, cliProfile, withStore } from '../profile.js'

function parsePort (text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`"${text}" is not a port number (0-65535; 0 picks a free port)`)
  return port
}

/** `cspace forward` and `cspace expose`: tunnels kept by the daemon and persisted in the profile. */
export function registerTunnelCommands (program: Command): void {
  program.command('forward')
    .description('forward a local TCP port on 127.0.0.1 to USER\'s SERVICE (port 0: any free port, printed)')
    .argument('[localport]').argument('[user]').argument('[service]')
    .option('--remove <port>', 'stop and forget the forward on this local port')
    .action(async (localport: string | undefined, user: string | undefined, service: string | undefined, opts: { remove?: string }) => {
      if (opts.remove != null) {
        const port = parsePort(opts.remove)
        await applyOrSave(
          async () => await new LocalApiClient().delete(`/v1/forwards/${port}`),
          () => withStore((store) => { if (!new ForwardTable(store).remove(port)) throw new ForwardNotFound(port) }),
          'FORWARD_NOT_FOUND')
        process.stdout.write(`removed the forward on port ${port}\n`)
        return
      }
      if (localport == null || user == null || service == null) throw new UsageError('usage: cspace forward LOCALPORT USER SERVICE (or --remove PORT)')
      const port = parsePort(localport)
      validateServiceName(service)
      const spec = { port, contact: user, service }
      const { result: f, running } = await applyOrSave(async () => await new LocalApiClient().post<ForwardRecord>('/v1/forwards', spec), () => saveForward(spec))
      process.stdout.write(`${f.port}\n`)
      process.stderr.write(`forwarding 127.0.0.1:${f.port} -> ${f.contact}/${f.service}${running ? '' : ' (saved; listens when the daemon starts)'}\n`)
    })

  program.command('expose')
    .description('offer SERVICE to others: incoming sessions go to HOST:PORT, or to a command run per session')
    .argument('<service>').argument('[hostport]')
    .option('--exec <cmd>', 'run CMD per session with the session on stdin/stdout (caller in CSPACE_CALLER_* variables)')
    .option('--max-sessions <n>', 'refuse new sessions while N are open (the caller is told the service is busy)')
    .option('--remove', 'stop offering SERVICE')
    .action(async (service: string, hostport: string | undefined, opts: { exec?: string, maxSessions?: string, remove?: boolean }) => {
      validateServiceName(service)
      if (opts.remove !== true) {
        if ((hostport == null) === (opts.exec == null)) throw new UsageError('usage: cspace expose SERVICE HOST:PORT, or cspace expose SERVICE --exec CMD')
        if (hostport != null) splitHostPort(hostport)
        if (opts.exec != null) checkExecCommand(opts.exec)
      }
      const maxSessions = opts.maxSessions != null ? sessionCap(opts.maxSessions) : undefined
      const body = { ...(opts.exec != null ? { service, exec: opts.exec } : { service, target: hostport }), ...(maxSessions != null ? { maxSessions } : {}) }
      const { running } = await applyOrSave(
        async () => {
          const api = new LocalApiClient()
          if (opts.remove === true) await api.delete(`/v1/exposes/${service}`)
          else await api.post('/v1/exposes', body)
        },
        // no daemon: recorded; the daemon serves it from its next start
        () => withStore((store) => {
          const table = new ExposeTable(store)
          if (opts.remove === true) {
            if (!table.remove(service)) throw new UsageError(`service "${service}" is not exposed`)
          } else table.put(opts.exec != null ? { service, kind: 'exec', target: opts.exec, maxSessions } : { service, kind: 'tcp', target: hostport as string, maxSessions })
        }),
        'EXPOSE_NOT_FOUND')
      const what = opts.remove === true ? `stopped exposing ${service}` : `exposing ${service} -> ${opts.exec != null ? `exec ${opts.exec}` : hostport as string}${maxSessions != null ? `, at most ${maxSessions} sessions at once` : ''}`
      process.stdout.write(`${what}${running ? '' : ' (saved; applies when the daemon starts)'}\n`)
    })
}

/**
 * No daemon: the forward is recorded, checked as the daemon would check it
 * (a contact or another user's ID; one forward per port), and the daemon
 * listens on it from its next start.
 */
function saveForward (spec: ForwardRecord): ForwardRecord {
  if (spec.port === 0) throw new CspaceError('DAEMON_NOT_RUNNING', `no daemon is running for the profile ${cliProfile().home} to pick a free port; start one with \`cspace daemon\`, or name a port to save the forward for its next start`)
  return withStore((store, paths) => {
    nameUser(spec.contact, userIdFromPublicKey(readPublicKey(paths.keyFile)).peerId, new ContactBook({ store }))
    const table = new ForwardTable(store)
    const same = table.list().find(f => f.port === spec.port)
    if (same != null && !(contactNameKey(same.contact) === contactNameKey(spec.contact) && same.service === spec.service)) throw new PortForwarded(spec.port, `${same.contact}/${same.service}`)
    table.put(spec)
    return spec
  })
}

/** `--max-sessions N`: a whole number from 1 to MAX_SESSIONS_CAP. */
function sessionCap (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_SESSIONS_CAP) throw new UsageError(`--max-sessions takes a whole number from 1 to ${MAX_SESSIONS_CAP}`)
  return n
}
