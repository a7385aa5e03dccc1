import { existsSync, readFileSync, statSync } from 'node:fs'
import { writeFileAtomic } from '../util/atomic-file.js'
import { ConfigInvalid } from './errors.js'

/** config.json, version-less but strictly validated: unknown keys are errors, missing ones take defaults. */
export interface Config {
  listen: string[]
  bootstrap: string[]
  network: {
    /** Keep loopback/private addresses in the DHT and presence, and serve the DHT without waiting to be public. */
    allowPrivateAddresses: boolean
    inboundConnectionsPerIpPerSecond: number
    maxConnections: number
  }
  presence: { ttlSeconds: number }
  apiPort: number
}

const MAX_CONFIG_BYTES = 1024 * 1024

export function defaultConfig (): Config {
  return {
    listen: ['/ip4/0.0.0.0/tcp/0'],
    bootstrap: [],
    network: { allowPrivateAddresses: false, inboundConnectionsPerIpPerSecond: 5, maxConnections: 300 },
    presence: { ttlSeconds: 3600 },
    apiPort: 0
  }
}

export function loadConfig (path: string): Config {
  const config = defaultConfig()
  if (!existsSync(path)) return config
  if (statSync(path).size > MAX_CONFIG_BYTES) throw new ConfigInvalid(path, 'larger than 1 MiB')
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigInvalid(path, `not JSON (${(err as Error).message})`)
  }
  const fail = (why: string): never => { throw new ConfigInvalid(path, why) }
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`)
    return v as Record<string, unknown>
  }
  const known = (o: Record<string, unknown>, keys: string[], where: string): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`unknown setting "${where}${k}"`)
  }
  const strings = (v: unknown, where: string): string[] => {
    if (!Array.isArray(v) || v.some(x => typeof x !== 'string') || v.length > 64) fail(`"${where}" must be a list of strings`)
    return v as string[]
  }
  const int = (v: unknown, where: string, min: number, max: number): number => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) fail(`"${where}" must be an integer from ${min} to ${max}`)
    return v as number
  }
  const root = obj(raw, 'the file')
  known(root, ['listen', 'bootstrap', 'network', 'presence', 'apiPort'], '')
  if (root.listen !== undefined) config.listen = strings(root.listen, 'listen')
  if (root.bootstrap !== undefined) config.bootstrap = strings(root.bootstrap, 'bootstrap')
  if (root.apiPort !== undefined) config.apiPort = int(root.apiPort, 'apiPort', 0, 65535)
  if (root.network !== undefined) {
    const n = obj(root.network, '"network"')
    known(n, ['allowPrivateAddresses', 'inboundConnectionsPerIpPerSecond', 'maxConnections'], 'network.')
    if (n.allowPrivateAddresses !== undefined) {
      if (typeof n.allowPrivateAddresses !== 'boolean') fail('"network.allowPrivateAddresses" must be true or false')
      config.network.allowPrivateAddresses = n.allowPrivateAddresses as boolean
    }
    if (n.inboundConnectionsPerIpPerSecond !== undefined) config.network.inboundConnectionsPerIpPerSecond = int(n.inboundConnectionsPerIpPerSecond, 'network.inboundConnectionsPerIpPerSecond', 1, 100_000)
    if (n.maxConnections !== undefined) config.network.maxConnections = int(n.maxConnections, 'network.maxConnections', 1, 100_000)
  }
  if (root.presence !== undefined) {
    const p = obj(root.presence, '"presence"')
    known(p, ['ttlSeconds'], 'presence.')
    if (p.ttlSeconds !== undefined) config.presence.ttlSeconds = int(p.ttlSeconds, 'presence.ttlSeconds', 30, 86_400)
  }
  return config
}

export function saveConfig (path: string, config: Config): void {
  writeFileAtomic(path, JSON.stringify(config, null, 2) + '\n', 0o600)
}
