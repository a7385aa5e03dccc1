import { UsageError } from '../../errors.js'

export interface HostPort { host: string, port: number }

/** Parses HOST:PORT (IPv6 as [ADDR]:PORT) as given to --vnc; a usage error otherwise. */
export function parseHostPort (text: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(text)
  const port = m == null ? NaN : Number(m[3])
  if (m == null || port < 1 || port > 65535) {
    throw new UsageError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:5900)`)
  }
  return { host: m[1] ?? m[2], port }
}

/** Parses a local port for --port: 0-65535, 0 meaning any free port. */
export function parsePort (text: string): number {
  const port = Number(text)
  if (!/^\d{1,5}$/.test(text) || port > 65535) throw new UsageError(`"${text}" is not a port number (0-65535; 0 picks a free port)`)
  return port
}

export function formatHostPort (a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}
