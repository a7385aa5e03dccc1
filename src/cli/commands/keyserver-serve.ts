import { join } from 'node:path'
import { isIP } from 'node:net'
import { Command, Option } from 'commander'
import { UsageError } from '../../errors.js'
import { ensureHome } from '../../store/index.js'
import { cliProfile } from '../profile.js'

export const DEFAULT_KEYSERVER_PORT = 8470

interface ServeOptions { port: string, host: string, db?: string, trustProxy?: string, requestsPerMinute: string, writesPerMinute: string, logLevel: string }

/**
 * `cspace keyserver` with no subcommand: runs the key server in the
 * foreground, logging JSON lines to stdout, until SIGINT/SIGTERM, when it
 * finishes the requests in flight and closes its store.
 */
export function addKeyServerServe (keyserver: Command): void {
  keyserver
    .option('--port <n>', 'TCP port to serve HTTP on', String(DEFAULT_KEYSERVER_PORT))
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--db <url>', 'store: an SQLite file path (default $CSPACE_HOME/keyserver.db) or postgres://USER:PASSWORD@HOST/DB')
    .option('--trust-proxy <proxies>', 'behind a load balancer: believe X-Forwarded-For from these proxies (addresses or CIDRs, comma-separated) or this many hops')
    .option('--requests-per-minute <n>', 'per client IP, all requests', '600')
    .option('--writes-per-minute <n>', 'per client IP, signed writes', '30')
    .addOption(new Option('--log-level <level>', 'structured log level').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'))
    .action(async (opts: ServeOptions) => {
      // a signal while it starts: nothing is served yet, so nothing is cut off (an SQLite transaction under way rolls back)
      let onSignal = (signal: string): void => {
        process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), event: 'keyserver-stopped', signal, msg: 'key server stopped before it served' }) + '\n')
        process.exit(0)
      }
      process.on('SIGINT', () => { onSignal('SIGINT') })
      process.on('SIGTERM', () => { onSignal('SIGTERM') })
      const port = int(opts.port, '--port', 0, 65535)
      const requestsPerMinute = int(opts.requestsPerMinute, '--requests-per-minute', 1, 10_000_000)
      const writesPerMinute = int(opts.writesPerMinute, '--writes-per-minute', 1, 10_000_000)
      let db = opts.db
      if (db == null) {
        const home = cliProfile().home
        ensureHome(home)
        db = join(home, 'keyserver.db')
      }
      const { runKeyServer } = await import('../../keyserver/server/run-key-server.js')
      const server = await runKeyServer({ db, host: opts.host, port, requestsPerMinute, writesPerMinute, trustProxy: trustedProxies(opts.trustProxy), logger: { level: opts.logLevel } })
        .catch((err: unknown) => {
          // it failed: a signal now must not turn that into a clean stop
          onSignal = () => { process.exit(1) }
          throw err
        })
      await new Promise<void>((resolve) => {
        let stopping = false
        onSignal = (signal: string): void => {
          if (stopping) process.exit(130) // a second signal: out now
          stopping = true
          server.app.log.info({ event: 'keyserver-stopping', signal }, 'key server stopping: finishing requests in flight')
          server.close().then(resolve, (err: Error) => { server.app.log.error({ err }, 'stop failed'); resolve() })
        }
      })
      process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), event: 'keyserver-stopped', msg: 'key server stopped' }) + '\n')
    })
}

/** --trust-proxy: a hop count (1-10) or a list of addresses/CIDRs; never "trust everyone". */
function trustedProxies (value: string | undefined): false | number | string[] {
  if (value == null) return false
  if (/^\d+$/.test(value)) return int(value, '--trust-proxy', 1, 10)
  const list = value.split(',').map(v => v.trim()).filter(v => v !== '')
  const bad = list.find(v => !isAddressOrCidr(v))
  if (list.length === 0 || bad != null) throw new UsageError(`--trust-proxy ${JSON.stringify(value)}: give the proxies' addresses or CIDRs, comma-separated (e.g. 10.0.0.0/8), or a hop count`)
  return list
}

/** 10.0.0.1, 10.0.0.0/8, ::1 or fd00::/8: an IP address, with a prefix length its family allows. */
function isAddressOrCidr (text: string): boolean {
  const [address, prefix, ...rest] = text.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  return prefix == null || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
}

function int (text: string, flag: string, min: number, max: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} ${text} must be an integer from ${min} to ${max}`)
  return n
}
