import type { PeerId, PrivateKey } from '@libp2p/interface'
import { fingerprint, readKeyFile, userIdFromPublicKey } from '../identity/index.js'
import { ensureHome, homeMadePrivateNote, ExposeTable, ForwardTable, getKv, loadConfig, openStore, profilePaths, setKv, type Config, type ProfilePaths, type Store } from '../store/index.js'
import { ContactBook } from '../contacts/index.js'
import { createNetworkNode, DEFAULT_RELAY_LIMITS, keepJoined, routerOf, PresencePublisher, PresenceResolver, type BootstrapKeeper, type NetworkNode } from '../network/index.js'
import { PromptQueue, RuleBook, ServiceRegistry, SessionManager } from '../session/index.js'
import { componentLogger } from '../util/log.js'
import { atMostEvery } from '../util/at-most-every.js'
import { AppPort } from './app-port.js'
import { startApiServer, type ApiServer } from './api-server.js'
import { registerInProcessDaemon } from './in-process-sessions.js'
import { createApiToken, writeDaemonInfo } from './daemon-info.js'
import { ExposeManager } from './exposes.js'
import { ForwardManager } from './forwards.js'
import { ProfileLock } from './profile-lock.js'
import { PresenceTracker } from './presence-tracker.js'
import { EventHub } from './event-hub.js'
import { watchStore } from './store-watcher.js'
import { ListenFailed } from './errors.js'

const log = componentLogger('daemon')

export interface DaemonOptions {
  home: string
  passphrase?: string
  /** Command-line overrides of config.json. */
  listen?: string[]
  announce?: string[]
  bootstrap?: string[]
  router?: boolean
  apiPort?: number
  allowPrivateAddresses?: boolean
  /** What goes wrong while running that the user should see (the foreground command prints it). */
  onWarning?: (text: string) => void
}

/**
 * One running cspace daemon: owns the profile (store, identity), the libp2p
 * node and presence, the session layer, tunnels, and the local API. Everything
 * is wired here, in one place; the parts take their dependencies as arguments.
 */
export class Daemon {
  readonly paths: ProfilePaths
  readonly config: Config
  readonly store: Store
  readonly contacts: ContactBook
  readonly rules: RuleBook
  readonly node: NetworkNode
  readonly privateKey: PrivateKey
  readonly resolver: PresenceResolver
  readonly publisher: PresencePublisher
  readonly services = new ServiceRegistry()
  readonly prompts = new PromptQueue()
  readonly sessions: SessionManager
  readonly forwards: ForwardManager
  readonly exposes: ExposeManager
  readonly forwardTable: ForwardTable
  readonly exposeTable: ExposeTable
  readonly tracker: PresenceTracker
  readonly events = new EventHub()
  /** Sessions opened, ended or refused on forwards and exposes: a page showing their counts looks again, once a second at most. */
  private readonly tunnelActivity = atMostEvery(1000, () => { this.events.publish('tunnels:activity', {}) })
  readonly router: boolean
  private readonly lock: ProfileLock
  private api?: ApiServer
  private appPort?: AppPort
  private leaveProcess: () => void = () => {}
  private stopping?: Promise<void>
  /** What did not come back at start (a saved forward whose port is taken), for the command to print. */
  readonly startupWarnings: string[] = []
  /** The offline record is sent on stop only after an online one could have been. */
  private publishing = false
  private stopWatchingStore: () => void = () => {}
  private bootstrapKeeper?: BootstrapKeeper
  /** Why this node is alone on the network (no connection, bootstrap peers not answering); undefined when joined. */
  get isolated (): string | undefined { return this.bootstrapKeeper?.isolated }
  private onWarning: (text: string) => void = () => {}

  private constructor (parts: Pick<Daemon, 'paths' | 'config' | 'store' | 'node' | 'privateKey' | 'router'> & { lock: ProfileLock }) {
    this.paths = parts.paths
    this.config = parts.config
    this.store = parts.store
    this.node = parts.node
    this.privateKey = parts.privateKey
    this.router = parts.router
    this.lock = parts.lock
    this.contacts = new ContactBook({ store: this.store })
    this.rules = new RuleBook({ store: this.store })
    this.forwardTable = new ForwardTable(this.store)
    this.exposeTable = new ExposeTable(this.store)
    this.resolver = new PresenceResolver({ node: this.node })
    this.publisher = new PresencePublisher({
      node: this.node,
      privateKey: this.privateKey,
      sequence: {
        load: () => Number(getKv(this.store, 'presence.seq') ?? '0'),
        save: (seq) => setKv(this.store, 'presence.seq', String(seq))
      }
    }, { ttlSeconds: this.config.presence.ttlSeconds, allowPrivateAddresses: this.config.network.allowPrivateAddresses })
    this.tracker = new PresenceTracker({ node: this.node, resolver: this.resolver, isContact: (peerId) => this.contacts.findByPeerId(peerId) != null }, (c) => this.events.publish('presence:checked', { name: c.name, peerId: c.peerId }))
    this.sessions = new SessionManager({
      node: this.node,
      resolver: this.resolver,
      contacts: this.contacts,
      rules: () => this.rules.list(),
      prompts: this.prompts,
      services: this.services,
      lostPeers: this.tracker.lost
    })
    this.forwards = new ForwardManager({ sessions: this.sessions, onActivity: this.tunnelActivity })
    this.exposes = new ExposeManager({ services: this.services, onActivity: this.tunnelActivity })
  }

  /** Opens the profile, takes its lock and starts everything; throws a CspaceError with the reason. */
  static async start (options: DaemonOptions): Promise<Daemon> {
    const paths = profilePaths(options.home)
    if (ensureHome(paths.home)) options.onWarning?.(homeMadePrivateNote(paths.home))
    const lock = ProfileLock.acquire(paths.lock, paths.home)
    let store: Store | undefined
    try {
      const privateKey = readKeyFile(paths.keyFile, options.passphrase)
      const config = loadConfig(paths.config)
      if (options.listen != null && options.listen.length > 0) config.listen = options.listen
      if (options.announce != null && options.announce.length > 0) config.announce = options.announce
      if (options.bootstrap != null && options.bootstrap.length > 0) config.bootstrap = options.bootstrap
      if (options.apiPort != null) config.apiPort = options.apiPort
      if (options.allowPrivateAddresses === true) config.network.allowPrivateAddresses = true
      store = openStore(paths.database)
      const node = await createNetworkNode({ privateKey }, {
        listen: config.listen,
        announce: config.announce,
        bootstrap: config.bootstrap,
        allowPrivateAddresses: config.network.allowPrivateAddresses,
        inboundConnectionsPerIpPerSecond: config.network.inboundConnectionsPerIpPerSecond,
        maxConnections: config.network.maxConnections,
        router: options.router === true,
        relaySlots: config.network.relaySlots,
        relayLimits: { ...DEFAULT_RELAY_LIMITS, ...config.router }
      }).catch((err: Error) => {
        // libp2p's own message ends in advice about its configuration object
        if (/failed to be listened on/.test(err.message)) throw new ListenFailed(config.listen)
        throw err
      })
      const daemon = new Daemon({ paths, config, store, node, privateKey, router: options.router === true, lock })
      if (options.onWarning != null) daemon.onWarning = options.onWarning
      try {
        await daemon.run()
      } catch (err) {
        // what did start (the node, forwards, the app port) must not keep the process alive
        await daemon.stop().catch(() => {})
        throw err
      }
      return daemon
    } catch (err) {
      store?.close()
      lock.release()
      throw err
    }
  }

  private async run (): Promise<void> {
    await this.node.start()
    await this.sessions.start()
    this.tracker.start()
    this.prompts.addEventListener('prompt', (e) => this.events.publish('prompt', (e as CustomEvent).detail))
    this.prompts.addEventListener('prompt-settled', (e) => this.events.publish('prompt-settled', (e as CustomEvent).detail))
    this.node.addEventListener('peer:connect', (e: CustomEvent<PeerId>) => this.events.publish('peer:connect', { peerId: e.detail.toString() }))
    this.node.addEventListener('peer:disconnect', (e: CustomEvent<PeerId>) => this.events.publish('peer:disconnect', { peerId: e.detail.toString() }))
    for (const e of this.exposeTable.list()) this.exposes.add({ service: e.service, kind: e.kind, target: e.target, maxSessions: e.maxSessions })
    for (const f of this.forwardTable.list()) {
      await this.forwards.restore(f).catch((err: Error) => { this.startupWarnings.push(`the forward on port ${f.port} to ${f.contact}/${f.service} is not listening: ${err.message}; it stays saved and is tried again at the next start`) })
    }
    const token = createApiToken(this.paths.apiToken)
    this.appPort = new AppPort({ sessions: this.sessions, services: this.services }, { token })
    const appPort = await this.appPort.start()
    this.leaveProcess = registerInProcessDaemon(this.paths.home, { sessions: this.sessions, services: this.services })
    this.api = await startApiServer({ daemon: this }, { token, port: this.config.apiPort })
    writeDaemonInfo(this.paths.daemonInfo, { v: 1, pid: process.pid, apiPort: this.api.port, appPort, peerId: this.node.peerId.toString(), startedAt: Date.now() })
    this.publisher.start()
    this.bootstrapKeeper = keepJoined(this.node, this.config.bootstrap, (why) => {
      this.onWarning(`${why}; contacts cannot be found until one does (retried, up to every minute; see cspace status)`)
    })
    this.publishing = true
    // the rules are only the daemon's to write; re-read anyway after any other writer
    this.stopWatchingStore = watchStore(this.store, () => { this.storeChanged() })
  }

  /**
   * Another process committed to the profile's store (`cspace contacts add`
   * writes it directly): re-read what the daemon keeps in memory. Its store
   * watcher calls this within a second; the CLI asks at once after its writes.
   */
  storeChanged (): void {
    this.contacts.reload()
    this.rules.reload()
    this.sessions.endSessionsNowDenied()
    this.events.publish('profile:changed', {})
  }

  get userId (): string {
    return userIdFromPublicKey(this.privateKey.publicKey).text
  }

  get fingerprint (): string {
    return fingerprint(this.privateKey.publicKey)
  }

  /** The routers this daemon holds a relay slot on, each with the relay address it gives. */
  relaySlots (): Array<{ router: string, address: string }> {
    return this.listenAddresses().flatMap(address => {
      const router = routerOf(address)
      return router == null ? [] : [{ router, address }]
    })
  }

  /** Full listen addresses, each ending in /p2p/<peer id>. */
  listenAddresses (): string[] {
    return this.node.getMultiaddrs().map(ma => ma.toString())
  }

  /** Clean shutdown: offline record, close tunnels and the node, release the profile. Idempotent. */
  async stop (): Promise<void> {
    // each step's time under DEBUG=cspace:daemon: a stop once never finished (docs/ARCHITECTURE.md)
    const step = async (name: string, work: () => unknown): Promise<void> => {
      const t0 = performance.now()
      await work()
      log('stop: %s took %d ms', name, Math.round(performance.now() - t0))
    }
    this.stopping ??= (async () => {
      this.bootstrapKeeper?.stop()
      if (this.publishing) await step('offline record', async () => await this.publisher.stop().catch(() => {}))
      this.tracker.stop()
      this.stopWatchingStore()
      this.prompts.close()
      await step('local API', async () => await this.api?.close().catch(() => {}))
      await step('app port', async () => await this.appPort?.stop().catch(() => {}))
      this.leaveProcess()
      await step('forwards', async () => await this.forwards.stop())
      await step('sessions', async () => await this.sessions.stop().catch(() => {}))
      await step('libp2p node', async () => await this.node.stop())
      this.tunnelActivity.stop()
      this.events.close()
      this.store.close()
      this.lock.release()
    })()
    await this.stopping
  }
}
