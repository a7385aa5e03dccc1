import { Command } from 'commander'
import { UsageError } from '../../errors.js'
import { RELEASE_AFTER_START_MS, RELEASE_EVERY_MS, releaseFreedMemoryPeriodically } from '../../util/release-memory.js'
import { cliProfile, passphraseFromEnv } from '../profile.js'
import { addressListProblem } from '../../store/index.js'
import { settledWithin } from '../../util/deadline.js'
import { componentLogger } from '../../util/log.js'

const log = componentLogger('daemon')

const collect = (value: string, previous: string[]): string[] => [...previous, value]

/**
 * A stop (offline record, closing tunnels and connections) gets this long;
 * it is bounded inside by its own timeouts, and this is for the step that is
 * not: a bench run once waited on a daemon whose stop never finished.
 */
const STOP_DEADLINE_MS = 20_000

/** `cspace daemon`: runs the node in the foreground until SIGINT/SIGTERM. */
export function registerDaemonCommand (program: Command): void {
  program.command('daemon')
    .description('run the node in the foreground; prints the addresses it announces (its listen addresses unless --announce), one per line')
    .option('--listen <addr>', 'multiaddr to listen on (repeatable)', collect, [])
    .option('--announce <addr>', 'multiaddr to advertise instead of the listen addresses, e.g. a router\'s public address (repeatable)', collect, [])
    .option('--bootstrap <addr>', 'bootstrap peer multiaddr ending in /p2p/<id> (repeatable)', collect, [])
    .option('--router', 'serve others as a router: DHT server, bootstrap peer and relay for users behind NAT')
    .option('--api-port <n>', 'port of the local API on 127.0.0.1 (default: config, else any free port)')
    .option('--allow-private-addresses', 'use loopback/LAN addresses in the DHT and presence (LAN and test networks)')
    .option('--no-apps', 'do not run the chat, file-transfer and desktop services beside the node')
    .action(async (opts: { listen: string[], announce: string[], bootstrap: string[], router?: boolean, apiPort?: string, allowPrivateAddresses?: boolean, apps: boolean }) => {
      // checked as config.json's addresses are: a bad peer id otherwise surfaces as libp2p's "Incorrect length"
      for (const [flag, list, needPeer] of [['--listen', opts.listen, false], ['--announce', opts.announce, false], ['--bootstrap', opts.bootstrap, true]] as const) {
        const why = addressListProblem(list, needPeer)
        if (why != null) throw new UsageError(`${flag} ${why}`)
      }
      let apiPort: number | undefined
      if (opts.apiPort != null) {
        apiPort = Number(opts.apiPort)
        if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535) throw new UsageError(`--api-port ${opts.apiPort} is not a port number (0-65535)`)
      }
      // its addresses go to stdout once; a reader gone after that (`cspace daemon | head -1`) must not end the daemon
      process.stdout.removeAllListeners('error')
      process.stdout.on('error', () => {})
      // loaded on demand: the network stack is heavy, and other commands do not need it
      const { Daemon } = await import('../../daemon/index.js')
      const daemon = await Daemon.start({
        home: cliProfile().home,
        passphrase: passphraseFromEnv(),
        listen: opts.listen,
        announce: opts.announce,
        bootstrap: opts.bootstrap,
        router: opts.router === true,
        apiPort,
        allowPrivateAddresses: opts.allowPrivateAddresses,
        onWarning: (text) => process.stderr.write(`cspace: ${text}\n`)
      })
      // the apps reach the daemon only through the SDK, as any application would
      const { startAppHosts, stopAppHosts } = await import('../../apps/index.js')
      const apps = opts.apps
        ? await startAppHosts({ home: daemon.paths.home, onError: (app, err) => process.stderr.write(`cspace: the ${app} app did not start: ${err.message}\n`) })
        : []
      // start-up freed much of what it parsed and compiled; give it back once settled, and later frees too
      const stopReleasingMemory = releaseFreedMemoryPeriodically(RELEASE_AFTER_START_MS, RELEASE_EVERY_MS)
      for (const addr of daemon.listenAddresses()) process.stdout.write(`${addr}\n`)
      process.stderr.write(`cspace daemon running for ${daemon.paths.home} (${daemon.router ? 'router, ' : ''}pid ${process.pid}); Ctrl-C to stop\n`)
      for (const warning of daemon.startupWarnings) process.stderr.write(`cspace: ${warning}\n`)
      await new Promise<void>((resolve) => {
        let stopping = false
        const shutdown = (): void => {
          if (stopping) {
            // a second signal while stopping: the user wants out now
            process.stderr.write('cspace daemon: stopping at once\n')
            process.exit(130)
          }
          stopping = true
          stopReleasingMemory()
          const t0 = performance.now()
          const stopped = stopAppHosts(apps).then(async () => { log('stop: app hosts took %d ms', Math.round(performance.now() - t0)); await daemon.stop() }).catch((err: Error) => { process.stderr.write(`cspace: stop failed: ${err.message}\n`) })
          void settledWithin(stopped, STOP_DEADLINE_MS).then((inTime) => {
            if (inTime) { resolve(); return }
            // committed data is safe (SQLite, synchronous=FULL); the profile lock names a dead pid, which the next start takes over
            process.stderr.write(`cspace daemon: shutdown did not finish within ${STOP_DEADLINE_MS / 1000} s; exiting anyway\n`)
            process.exit(1)
          })
        }
        process.on('SIGINT', shutdown)
        process.on('SIGTERM', shutdown)
      })
      process.stderr.write('cspace daemon stopped\n')
      // libp2p may leave sockets lingering; the profile is already released
      process.exit(0)
    })
}
