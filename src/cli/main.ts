import { Command, CommanderError } from 'commander'
import { CspaceError, UsageError } from '../errors.js'
import { unavailableHint } from '../store/index.js'
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
  for (const cmd of program.commands) {
    cmd.exitOverride()
    // one that runs alone and has subcommands (transfers, keyserver): commander took a misspelt subcommand for an excess argument
    if (cmd.commands.length > 0 && cmd.registeredArguments.length === 0) {
      cmd.allowExcessArguments(true)
      cmd.hook('preAction', (self, action) => {
        if (self !== action || self.args.length === 0) return
        // commander gives `help` as a subcommand only to commands without an action of their own
        if (self.args.length === 1 && self.args[0] === 'help') self.help()
        throw new UsageError(`unknown command '${self.args[0]}' for '${self.name()}' (run cspace help ${self.name()} for its commands)`)
      })
    }
  }
  return program
}

/** Runs the CLI; every failure ends as one line on stderr and exit code 1 (runtime) or 2 (usage). */
export async function main (argv: string[]): Promise<void> {
  // the reader of our output went away (`cspace connect bob web | head`): stop quietly, as nc does
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`cspace: cannot write the output (${err.message})\n`)
    process.exit(err.code === 'EPIPE' ? 0 : 1)
  })
  try {
    await buildProgram().parseAsync(argv)
  } catch (err) {
    process.exitCode = exitCodeFor(err)
    if (err instanceof CommanderError) return // commander already printed its message
    const message = err instanceof CspaceError ? err.message : systemMessage(err) ?? `unexpected error: ${(err as Error).message ?? String(err)}`
    process.stderr.write(`cspace: ${message.split('\n')[0]}\n`)
    if (!(err instanceof CspaceError) && process.env.DEBUG != null) process.stderr.write(`${(err as Error).stack}\n`)
    // the command is over: a library's stray handle (pg's socket after a refused login) must not keep it running
    setTimeout(() => process.exit(), 2000).unref()
  }
}

/**
 * What the system said, as the user can act on it: a full disk, a read-only
 * or forbidden path, a port in use. Undefined for anything else (a bug,
 * reported as "unexpected").
 */
export function systemMessage (err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException & { errcode?: unknown, address?: string, port?: number }
  const path = e.path != null ? ` (${e.path})` : ''
  switch (e.code) {
    case 'ENOSPC': case 'EDQUOT': return `no space left on the disk${path}; free some space and try again`
    case 'EROFS': return `the file system is read-only${path}; set CSPACE_HOME to a directory you can write to`
    case 'EACCES': case 'EPERM': return `permission denied${path}; check who owns the profile directory (CSPACE_HOME)`
    case 'ENOTDIR': return `a part of the path is not a directory${path}; check CSPACE_HOME`
    // (a recursive mkdir on a read-only file system says ENOENT, too)
    case 'ENOENT': if (e.syscall === 'mkdir') return `cannot create the directory${path}; check that you may write where CSPACE_HOME points`; break
    case 'EADDRINUSE': return `the address ${e.address ?? ''}${e.port != null ? `:${e.port}` : ''} is in use by another program; pick another port`
  }
  // SQLite's own result codes, met while writing the profile's store
  if (typeof e.errcode === 'number') {
    const code = e.errcode & 0xff
    if (code === 13 || code === 10) return `cannot write the profile store (${e.message.split('\n')[0]}); ${unavailableHint(e.message)}`
    if (code === 8) return `the profile store is read-only (${e.message.split('\n')[0]}); set CSPACE_HOME to a directory you can write to`
  }
  return undefined
}

function exitCodeFor (err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0
    // `cspace help` asked for it; `cspace` or `cspace contacts` alone got it (on stderr) for want of a subcommand
    if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2
    return 2
  }
  return err instanceof CspaceError ? err.exitCode : 1
}

await main(process.argv)
