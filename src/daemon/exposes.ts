import { connect } from 'node:net'
import { spawn } from 'node:child_process'
import { childDuplex } from './child-duplex.js'
import type { Duplex } from 'node:stream'
import { componentLogger } from '../util/log.js'
import { splitHostPort } from './host-port.js'
import { ConnectStatus, pipeSocketStream, type IncomingRequest, type ServiceRegistry } from '../session/index.js'

const log = componentLogger('daemon:exposes')

export type ExposeSpec =
  | { service: string, kind: 'tcp', target: string /* host:port */, maxSessions?: number }
  | { service: string, kind: 'exec', target: string /* shell command */, maxSessions?: number }

/** The most `expose --max-sessions` takes (a contact's connection carries at most 1024 sessions each way anyway). */
export const MAX_SESSIONS_CAP = 65_535

/** `active`: sessions open now, those still connecting to the target included. */
export interface ExposeState { service: string, kind: 'tcp' | 'exec', target: string, maxSessions?: number, active: number, total: number, refused: number, lastError?: string }

/** Variables of the daemon's environment that no session command gets. */
const SECRET_VARIABLES = ['CSPACE_PASSPHRASE']

/**
 * The environment of an `expose --exec` command: the daemon's, without its
 * secrets (the command talks to a remote caller, and a script that echoes
 * its environment must not hand them the key's passphrase), and the caller.
 */
export function sessionCommandEnv (daemonEnv: NodeJS.ProcessEnv, req: Pick<IncomingRequest, 'service' | 'caller'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...daemonEnv }
  for (const name of SECRET_VARIABLES) delete env[name]
  return {
    ...env,
    CSPACE_SERVICE: req.service,
    CSPACE_CALLER_ID: req.caller.userId,
    CSPACE_CALLER_PEER_ID: req.caller.peerId,
    CSPACE_CALLER_NAME: req.caller.contactName ?? '',
    CSPACE_CALLER_FINGERPRINT: req.caller.fingerprint
  }
}

/**
 * Services offered to others: each incoming session for the service is
 * connected to a local TCP address, or handed to a command run per session
 * with the session on its stdin/stdout (the original's on-demand handlers).
 */
export class ExposeManager {
  private readonly services: ServiceRegistry
  private readonly exposes = new Map<string, { state: ExposeState, unregister: () => void }>()

  /** Told whenever an expose's counts or last error change (the event stream's `tunnels:activity`). */
  private readonly onActivity: () => void

  constructor (components: { services: ServiceRegistry, onActivity?: () => void }) {
    this.services = components.services
    this.onActivity = components.onActivity ?? (() => {})
  }

  /** Adds an expose, or replaces the one of the same name; throws ServiceTaken if an app or a program offers the name. */
  add (spec: ExposeSpec): void {
    const state: ExposeState = { ...spec, active: 0, total: 0, refused: 0 }
    const open = spec.kind === 'tcp'
      ? async (req: IncomingRequest) => await this.toTcp(state, req)
      : async (req: IncomingRequest) => await this.toCommand(state, req)
    const handler = async (req: IncomingRequest): Promise<void> => {
      // counted from here, not once connected: a burst of requests must not all pass the check while connecting
      if (state.maxSessions != null && state.active >= state.maxSessions) {
        state.refused++
        this.onActivity()
        req.reject(ConnectStatus.Busy, `service "${state.service}" has its ${state.maxSessions} sessions open`)
        return
      }
      state.active++
      this.onActivity()
      try {
        await open(req)
      } finally {
        state.active--
        this.onActivity()
      }
    }
    this.remove(spec.service) // frees the name only if an expose held it
    this.exposes.set(spec.service, { state, unregister: this.services.register(spec.service, handler, `an expose (\`cspace expose ${spec.service} --remove\` ends it)`) })
  }

  remove (service: string): boolean {
    const e = this.exposes.get(service)
    if (e == null) return false
    e.unregister()
    this.exposes.delete(service)
    return true
  }

  list (): ExposeState[] {
    return [...this.exposes.values()].map(e => ({ ...e.state }))
      // service names are ASCII: no collation, whose tables cost 2 MiB (scripts/code-unit-sorts.ts)
      .sort((a, b) => a.service < b.service ? -1 : a.service > b.service ? 1 : 0)
  }

  private async toTcp (state: ExposeState, req: IncomingRequest): Promise<void> {
    let target: { host: string, port: number }
    try {
      target = splitHostPort(state.target)
    } catch (err) {
      // stored by an earlier cspace that let it through ("a b:1"): the expose stays, each session is refused
      state.lastError = (err as Error).message
      req.reject(ConnectStatus.ServiceUnreachable)
      return
    }
    const { host, port } = target
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true })
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true))
      socket.once('error', (err) => { state.lastError = err.message; resolve(false) })
    })
    if (!connected) {
      log('expose %s: %s unreachable', state.service, state.target)
      req.reject(ConnectStatus.ServiceUnreachable)
      return
    }
    socket.pause()
    await this.carry(state, socket, req)
  }

  private async toCommand (state: ExposeState, req: IncomingRequest): Promise<void> {
    const child = spawn('/bin/sh', ['-c', state.target], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: sessionCommandEnv(process.env, req)
    })
    const started = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true))
      child.once('error', (err) => { state.lastError = err.message; resolve(false) })
    })
    if (!started) { req.reject(ConnectStatus.ServiceUnreachable); return }
    await this.carry(state, childDuplex(child), req)
    if (child.exitCode == null) child.kill()
  }

  private async carry (state: ExposeState, local: Duplex, req: IncomingRequest): Promise<void> {
    state.total++
    try {
      const stream = await req.accept()
      local.resume()
      await pipeSocketStream(local, stream)
    } catch (err) {
      state.lastError = (err as Error).message
      local.destroy()
    }
  }
}
