import { Command } from 'commander'
import { connect } from '../../sdk/index.js'
import { CspaceError } from '../../errors.js'

/** `cspace connect NAME SERVICE`: stdin/stdout ↔ the service, like nc; works as an ssh ProxyCommand. */
export function registerConnectCommand (program: Command): void {
  program.command('connect <user> <service>')
    .description('connect stdin/stdout to USER\'s SERVICE (USER: a contact name or a user ID)')
    .action(async (user: string, service: string) => {
      // stdout is the session's: what is going on goes to stderr, as ssh does
      const onAsking = (): void => { process.stderr.write(`cspace: ${user} is being asked whether to allow "${service}"; waiting for their answer\n`) }
      const socket = await connect(user, service, { onAsking })
      await new Promise<void>((resolve, reject) => {
        let inputDone = false
        let outputDone = false
        const check = (): void => { if (inputDone && outputDone) resolve() }
        process.stdin.pipe(socket)
        process.stdin.once('end', () => { inputDone = true; check() })
        socket.pipe(process.stdout)
        socket.once('end', () => { outputDone = true; inputDone = true; check() })
        socket.once('error', (err: NodeJS.ErrnoException) => {
          // the daemon resets the connection when the session was cut off (the other side's daemon gone, the link lost)
          reject(err.code === 'ECONNRESET' ? new CspaceError('SESSION_CUT_OFF', `the session with ${user}'s "${service}" was cut off before it ended (the connection to them was lost)`) : err)
        })
      })
      // stdin may still hold the event loop (a tty); the session is over
      process.exit(0)
    })
}
