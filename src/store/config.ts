import { readFileSync, statSync } from 'node:fs'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { writeFileAtomic } from '../util/atomic-file.js'
import { ConfigInvalid } from './errors.js'

/** config.json, version-less but strictly validated: unknown keys are errors, missing ones take defaults. */
export interface Config {
  /** Multiaddrs to listen on. */
  listen: string[]
  /**
   * Addresses to advertise instead of the listen addresses: a router's public
   * address when its host cannot see it (a cloud VM behind 1:1 NAT), or to
   * vouch for an address libp2p would otherwise wait to see confirmed.
   */
  announce: string[]
  /** Multiaddrs of bootstrap nodes, each ending in /p2p/<peer id>. */
  bootstrap: string[]
  network: {
    /** Keep loopback/private addresses in the DHT and presence (LAN and loopback test networks). */
    allowPrivateAddresses: boolean
    /** libp2p's default is 5; raise it when many daemons share one IP. */
    inboundConnectionsPerIpPerSecond: number
    maxConnections: number
    /**
     * Relay slots to take on routers (0-4) once a router's dial-back finds
     * this daemon unreachable (NAT, firewall), so that it can still be
     * reached through them. 0: never.
     */
    relaySlots: number
  }
  /** A router's relay limits; each one left out takes the network layer's default. */
  router: RouterLimits
  presence: { ttlSeconds: number }
  /** Port of the local API on 127.0.0.1; 0 picks a free one. */
  apiPort: number
  /** The key server the `keyserver` and `contacts … --from-keyserver` commands use, unless --keyserver names another. */
  keyserver?: string
}

export interface RouterLimits {
  maxReservations?: number
  maxReservationsPerIp?: number
  maxCircuits?: number
  maxCircuitsPerPeer?: number
  circuitBytes?: number
  circuitSeconds?: number
  relayBytesPerSecond?: number
}

/** Each router limit's allowed range: [min, max]. */
const ROUTER_LIMIT_RANGES: Record<keyof RouterLimits, [number, number]> = {
  maxReservations: [0, 1_000_000],
  maxReservationsPerIp: [1, 1_000_000],
  maxCircuits: [0, 1_000_000],
  maxCircuitsPerPeer: [1, 1_000_000],
  circuitBytes: [1024 * 1024, Number.MAX_SAFE_INTEGER],
  circuitSeconds: [10, 30 * 86_400],
  relayBytesPerSecond: [0, Number.MAX_SAFE_INTEGER]
}

const MAX_CONFIG_BYTES = 1024 * 1024
const MAX_ADDRESSES = 64

export function defaultConfig (): Config {
  return {
    listen: ['/ip4/0.0.0.0/tcp/0'],
    announce: [],
    bootstrap: [],
    network: { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 5, maxConnections: 300, relaySlots: 2 },
    router: {},
    presence: { ttlSeconds: 3600 },
    apiPort: 0
  }
}

/** Reads config.json; a missing file means the defaults. */
export function loadConfig (path: string): Config {
  let text: string
  try {
    const st = statSync(path)
    if (!st.isFile()) throw new ConfigInvalid(path, 'not a regular file')
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigInvalid(path, 'larger than 1 MiB')
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig()
    if (err instanceof ConfigInvalid) throw err
    throw new ConfigInvalid(path, `cannot be read (${(err as Error).message})`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigInvalid(path, `not JSON (${(err as Error).message})`)
  }
  return parseConfig(raw, path)
}

/** Writes config.json atomically, 0600; refuses a config that loadConfig would refuse. */
export function saveConfig (path: string, config: Config): void {
  const checked = parseConfig(JSON.parse(JSON.stringify(config)), path)
  writeFileAtomic(path, JSON.stringify(checked, null, 2) + '\n', 0o600)
}

/** Loads, lets fn change the config in place, validates and saves it; returns what was saved. */
export function updateConfig (path: string, fn: (config: Config) => void): Config {
  const config = loadConfig(path)
  fn(config)
  saveConfig(path, config)
  return loadConfig(path)
}

/** Checks a parsed JSON value against the Config shape, filling in defaults. `source` names the file in errors. */
export function parseConfig (raw: unknown, source: string): Config {
  const config = defaultConfig()
  const fail = (why: string): never => { throw new ConfigInvalid(source, why) }
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`)
    return v as Record<string, unknown>
  }
  const known = (o: Record<string, unknown>, keys: string[], where: string): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`unknown setting "${where}${k}"`)
  }
  const int = (v: unknown, where: string, min: number, max: number): number => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) fail(`"${where}" must be an integer from ${min} to ${max}`)
    return v as number
  }
  const addresses = (v: unknown, where: string, needPeer: boolean): string[] => {
    if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) fail(`"${where}" must be a list of strings`)
    const why = addressListProblem(v as string[], needPeer)
    if (why != null) fail(`"${where}" ${why}`)
    return [...v as string[]]
  }

  const root = obj(raw, 'the file')
  known(root, ['listen', 'announce', 'bootstrap', 'network', 'router', 'presence', 'apiPort', 'keyserver'], '')
  if (root.keyserver !== undefined) {
    const why = typeof root.keyserver === 'string' ? keyserverUrlProblem(root.keyserver) : 'must be a string'
    if (why != null) fail(`"keyserver" ${why}`)
    config.keyserver = root.keyserver as string
  }
  if (root.listen !== undefined) config.listen = addresses(root.listen, 'listen', false)
  if (root.announce !== undefined) config.announce = addresses(root.announce, 'announce', false)
  if (root.bootstrap !== undefined) config.bootstrap = addresses(root.bootstrap, 'bootstrap', true)
  if (root.apiPort !== undefined) config.apiPort = int(root.apiPort, 'apiPort', 0, 65535)
  if (root.network !== undefined) {
    const n = obj(root.network, '"network"')
    known(n, ['allowPrivateAddresses', 'inboundConnectionsPerIpPerSecond', 'maxConnections', 'relaySlots'], 'network.')
    if (n.allowPrivateAddresses !== undefined) {
      if (typeof n.allowPrivateAddresses !== 'boolean') fail('"network.allowPrivateAddresses" must be true or false')
      config.network.allowPrivateAddresses = n.allowPrivateAddresses as boolean
    }
    if (n.inboundConnectionsPerIpPerSecond !== undefined) {
      config.network.inboundConnectionsPerIpPerSecond = int(n.inboundConnectionsPerIpPerSecond, 'network.inboundConnectionsPerIpPerSecond', 1, 100_000)
    }
    if (n.maxConnections !== undefined) config.network.maxConnections = int(n.maxConnections, 'network.maxConnections', 1, 100_000)
    if (n.relaySlots !== undefined) config.network.relaySlots = int(n.relaySlots, 'network.relaySlots', 0, 4)
  }
  if (root.router !== undefined) {
    const r = obj(root.router, '"router"')
    const names = Object.keys(ROUTER_LIMIT_RANGES) as Array<keyof RouterLimits>
    known(r, names, 'router.')
    for (const name of names) {
      if (r[name] !== undefined) config.router[name] = int(r[name], `router.${name}`, ...ROUTER_LIMIT_RANGES[name])
    }
  }
  if (root.presence !== undefined) {
    const p = obj(root.presence, '"presence"')
    known(p, ['ttlSeconds'], 'presence.')
    if (p.ttlSeconds !== undefined) config.presence.ttlSeconds = int(p.ttlSeconds, 'presence.ttlSeconds', 30, 86_400)
  }
  return config
}

/** Why the string is not a key server URL (http or https, no query), or undefined if it is. */
export function keyserverUrlProblem (text: string): string | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return `${JSON.stringify(text.slice(0, 200))} is not a URL; give one like https://keys.example.org`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${JSON.stringify(text.slice(0, 200))} must be an http:// or https:// URL`
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return `${JSON.stringify(text.slice(0, 200))} must not carry credentials, a query or a fragment`
  return undefined
}

/** Why a list of addresses (config.json's, or the daemon's flags) cannot be used, or undefined if it can. */
export function addressListProblem (list: string[], needPeer: boolean): string | undefined {
  if (list.length > MAX_ADDRESSES) return `has more than ${MAX_ADDRESSES} addresses`
  for (const a of list) {
    const why = addressProblem(a, needPeer)
    if (why != null) return `entry ${JSON.stringify(a.slice(0, 200))} ${why}`
  }
  return undefined
}

/** Why the string is not a usable multiaddr (ending in a valid /p2p/ id if `needPeer`), or undefined if it is. */
function addressProblem (text: string, needPeer: boolean): string | undefined {
  let components: Array<{ name: string, value?: string }>
  try {
    components = multiaddr(text).getComponents()
  } catch (err) {
    return `is not a multiaddr (${(err as Error).message})`
  }
  if (components.length === 0) return 'is empty'
  if (!needPeer) return undefined
  const last = components[components.length - 1]
  if (last?.name !== 'p2p' || last.value == null) return 'must end in /p2p/<peer id>'
  try {
    peerIdFromString(last.value)
  } catch {
    return 'has an invalid peer id after /p2p/'
  }
  return undefined
}
