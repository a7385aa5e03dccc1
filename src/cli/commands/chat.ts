import { Command } from 'commander'
import { UsageError } from '../../errors.js'
import { formatInbox, readInbox, runChatWindow, sendOnce } from '../../apps/chat/index.js'

/** `cspace chat NAME` (interactive), `cspace chat NAME --send TEXT`, `cspace chat --inbox`. */
export function registerChatCommand (program: Command): void {
  program.command('chat')
    .description('text chat: `cspace chat NAME` opens a conversation; --send for scripts; --inbox for unread messages')
    .argument('[name]', 'a contact name or user ID')
    .option('--send <text>', 'send one message and exit ("-" reads it from stdin)')
    .option('--wait <seconds>', 'with --send: how long to wait for delivery before leaving it queued', '10')
    .option('--inbox', 'print unread messages and chat requests from strangers, and mark the messages read')
    .option('--peek', 'with --inbox: leave the messages unread')
    .option('--history <n>', 'messages of history to show when opening a conversation', '50')
    .option('--json', 'machine-readable output (with --send or --inbox)')
    .action(async (name: string | undefined, opts: { send?: string, wait: string, inbox?: boolean, peek?: boolean, history: string, json?: boolean }) => {
      if (opts.inbox === true) {
        if (name != null || opts.send != null) throw new UsageError('--inbox takes no NAME and no --send')
        const inbox = await readInbox({ peek: opts.peek === true })
        process.stdout.write(opts.json === true ? JSON.stringify(inbox) + '\n' : formatInbox(inbox))
        return
      }
      if (name == null) throw new UsageError('usage: cspace chat NAME [--send TEXT] | cspace chat --inbox')
      if (opts.send != null) {
        const wait = Number(opts.wait)
        if (!Number.isFinite(wait) || wait < 0 || wait > 120) throw new UsageError(`--wait ${opts.wait} is not a number of seconds (0-120)`)
        const text = opts.send === '-' ? await readStdin() : opts.send
        const outcome = await sendOnce(name, text, { waitMs: Math.round(wait * 1000) })
        if (opts.json === true) process.stdout.write(JSON.stringify(outcome) + '\n')
        else if (outcome.state === 'delivered') process.stdout.write(`delivered to ${outcome.name}\n`)
        // queued says only that: with --wait 0 nothing was waited for, and a stranger's message waits for their answer
        else if (wait === 0) process.stdout.write(`queued for ${outcome.name}; the daemon delivers it as soon as ${outcome.name} can take it\n`)
        else process.stdout.write(`queued for ${outcome.name}: not delivered within ${wait} s; the daemon keeps trying until ${outcome.name} can take it\n`)
        return
      }
      const history = Number(opts.history)
      if (!Number.isInteger(history) || history < 0) throw new UsageError(`--history ${opts.history} is not a whole number`)
      await runChatWindow(name, { history })
    })
}

/** The message from stdin, without the final newline a shell pipe adds. */
async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size > 1024 * 1024) throw new UsageError('the message on stdin is over 1 MiB; a chat message is at most 16 KiB (send a file with `cspace send`)')
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
  } catch {
    throw new UsageError('the message on stdin is not UTF-8 text; a chat message is text (send a file with `cspace send`)')
  }
  return text.replace(/\r?\n$/, '')
}
