import { isIP } from 'node:net'
import { UsageError } from '../errors.js'

/** "host:port", "[v6]:port" or just "port" (meaning 127.0.0.1). */
export function splitHostPort (target: string): { host: string, port: number } {
  // a host name's characters (RFC 1123, and _ as some use it) or an IPv6 address in brackets: "a b" would only fail at the first session
  const m = /^(?:\[([^\]]+)\]|([A-Za-z0-9._-]{1,253})):(\d+)$/.exec(target)
  const port = Number(m != null ? m[3] : /^\d+$/.test(target) ? target : NaN)
  if (!Number.isInteger(port) || port < 1 || port > 65535 || (m?.[1] != null && isIP(m[1]) !== 6)) throw new UsageError(`"${target}" is not HOST:PORT (e.g. 127.0.0.1:22)`, 'INVALID_TARGET')
  // a bare port means 127.0.0.1, not whatever "localhost" resolves to first
  return { host: m?.[1] ?? m?.[2] ?? '127.0.0.1', port }
}

/** An expose's `--exec` command: something to run (it goes to `sh -c`). */
export function checkExecCommand (command: string): string {
  if (command.trim() === '') throw new UsageError('--exec needs a command to run per session, e.g. --exec "cat"', 'INVALID_TARGET')
  return command
}
