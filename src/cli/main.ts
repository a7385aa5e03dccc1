import { Command, CommanderError } from 'commander'
import { CspaceError } from '../errors.js'
import { registerIdentityCommands } from './commands/identity.js'
import { registerDaemonCommand } from './commands/daemon.js'
import { registerContactsCommand } from './commands/contacts.js'
import { registerConnectionsCommand, registerHangupCommand, registerStatusCommand } from './commands/status.js'
import { registerConnectCommand } from './commands/connect.js'
import { registerTunnelCommands } from './commands/tunnels.js'
import { registerRequestCommands } from './commands/requests.js'
import { registerKeyServerCommands } from './commands/keyserver.js'
import { registerChatCommand } from './commands/chat.js'
import { registerDesktopCommands } from './commands/desktop.js'
import { registerFilesCommands } from './commands/files.js'
import { registerUiCommand } from './commands/ui.js'

/** cli — the `cspace` command: a thin client of the daemon's local API (commander). */
export function buildProgram (): Command {
  const program = new Command('cspace')
    .description('secure peer-to-peer connect(user, service): a user is a public key')
    .version('0.1.0')
    // commander's errors as every other: one line, prefixed, exit 2
    .configureOutput({ outputError: (message, write) => { write(`cspace: ${message.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`) } })
    .exitOverride()
  for (const register of [registerIdentityCommands, registerDaemonCommand, registerContactsCommand, registerStatusCommand, registerConnectionsCommand, registerHangupCommand,
    registerConnectCommand, registerTunnelCommands, registerRequestCommands, registerKeyServerCommands, registerChatCommand, registerDesktopCommands, registerFilesCommands, registerUiCommand]) {
    register(program)
  }
  for (const cmd of program.commands) cmd.exitOverride()
  return program
}

/** Runs the CLI; every failure ends as one line on stderr and exit code 1 (runtime) or 2 (usage). */
export async function main (argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv)
  } catch (err) {
    process.exitCode = exitCodeFor(err)
    if (err instanceof CommanderError) return // commander already printed its message
    const message = err instanceof CspaceError ? err.message : `unexpected error: ${(err as Error).message ?? String(err)}`
    process.stderr.write(`cspace: ${message.split('\n')[0]}\n`)
    if (!(err instanceof CspaceError) && process.env.DEBUG != null) process.stderr.write(`${(err as Error).stack}\n`)
  }
}

function exitCodeFor (err: unknown): number {
  if (err instanceof CommanderError) {
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2
  }
  return err instanceof CspaceError ? err.exitCode : 1
}

await main(process.argv)
