import { createInterface, clearLine, cursorTo } from 'node:readline'
import { ControlClient } from '../host/index.js'
import { CspaceError } from '../../errors.js'
import type { ChatEvent, TypingEvent, WaitingEvent } from './chat-host.js'
import type { ChatMessage } from './chat-store.js'
import type { NamedMessage } from './chat-control.js'
import { formatMessage, quote, safeText } from './chat-format.js'

const TYPING_RESEND_MS = 3000
const TYPING_IDLE_MS = 4000
const TYPING_SHOW_EVERY_MS = 5000

export interface ChatWindowOptions { home?: string, history?: number, input?: NodeJS.ReadableStream, output?: NodeJS.WritableStream & { isTTY?: boolean } }

/**
 * `cspace chat NAME`: the history, then lines sent as typed and incoming
 * messages shown as they arrive, with marks: … queued, ✓ delivered, ✗ failed.
 * Resolves when input ends (Ctrl-D) and every typed line has reached the host.
 */
export async function runChatWindow (user: string, options: ChatWindowOptions = {}): Promise<void> {
  const input = options.input ?? process.stdin
  const output = options.output ?? process.stdout
  const tty = output.isTTY === true && (input as { isTTY?: boolean }).isTTY === true
  const client = await ControlClient.open('chat', options.home)
  await client.request('subscribe')
  const { peer, name, messages } = await client.request<{ peer: string, name?: string, messages: ChatMessage[] }>('history', { with: user, limit: options.history ?? 50 })
  const peerName = name ?? `${peer.slice(0, 12)}…`
  const rl = createInterface({ input, output, terminal: tty, prompt: '> ' })
  const print = (line: string): void => {
    if (tty) { clearLine(output, 0); cursorTo(output, 0) }
    output.write(line + '\n')
    if (tty) rl.prompt(true)
  }
  const markRead = (upto: number): void => { void client.request('markRead', { with: peer, upto }).catch(() => {}) }

  // with --history 0 nothing was asked for, which says nothing about whether there is any
  if (messages.length === 0 && options.history !== 0) print(`(no messages with ${peerName} yet)`)
  for (const m of messages) print(formatMessage(m, peerName, { withDate: true }))
  if (messages.length > 0) markRead(messages[messages.length - 1].seq)
  print(`— chatting with ${peerName}; Ctrl-D to leave —`)

  let lastTypingShown = 0
  let waitingShown = false
  client.onEvent((event, data) => {
    if (event === 'typing') {
      const t = data as TypingEvent
      if (t.peer === peer && t.on && Date.now() - lastTypingShown > TYPING_SHOW_EVERY_MS) { lastTypingShown = Date.now(); print(`· ${peerName} is typing…`) }
      return
    }
    if (event === 'waiting') {
      const w = data as WaitingEvent
      if (w.peer === peer && !waitingShown) { waitingShown = true; print(`· ${peerName} is not reachable now (${w.reason}); messages wait and go out when ${peerName} is back`) }
      return
    }
    const { message: m } = data as ChatEvent
    if (m.peer !== peer) return
    if (event === 'message' && m.direction === 'in') { lastTypingShown = 0; print(formatMessage(m, peerName)); markRead(m.seq) }
    if (event === 'delivered') { waitingShown = false; print(`  ✓ delivered ${quote(m.text)}`) }
    if (event === 'failed') print(`  ✗ not delivered ${quote(m.text)}: ${safeText(m.error ?? 'refused')}`)
  })

  // typing notices: "on" when keys are pressed (re-sent every few seconds), "off" after a pause
  let typingSentAt = 0
  let typingIdle: NodeJS.Timeout | undefined
  if (tty) {
    input.on('keypress', () => {
      if (Date.now() - typingSentAt > TYPING_RESEND_MS) { typingSentAt = Date.now(); void client.request('typing', { to: peer, on: true }).catch(() => {}) }
      if (typingIdle != null) clearTimeout(typingIdle)
      typingIdle = setTimeout(() => { typingSentAt = 0; void client.request('typing', { to: peer, on: false }).catch(() => {}) }, TYPING_IDLE_MS)
    })
  }

  const pending = new Set<Promise<unknown>>()
  rl.on('line', (line) => {
    if (line.trim() === '') { if (tty) rl.prompt(); return }
    typingSentAt = 0
    const p = client.request<NamedMessage>('send', { to: peer, text: line })
      .then(({ message }) => { if (tty) { clearLine(output, 0); cursorTo(output, 0) } print(formatMessage(message, peerName)) })
      .catch((err: Error) => print(`  ✗ not sent: ${err.message}`))
      .finally(() => pending.delete(p))
    pending.add(p)
  })
  if (tty) rl.prompt()
  let leaving = false
  const hostGone = client.closed.then(() => { if (!leaving) throw new CspaceError('APP_HOST_GONE', 'the chat service stopped (did the daemon stop?)') })
  try {
    await Promise.race([new Promise<void>((resolve) => rl.once('close', () => resolve())), hostGone])
  } finally {
    leaving = true
    // with the chat service gone the window ends too, rather than hold the terminal and take lines it cannot send
    rl.close()
    if (typingIdle != null) clearTimeout(typingIdle)
    await Promise.all([...pending])
    client.close()
  }
}
