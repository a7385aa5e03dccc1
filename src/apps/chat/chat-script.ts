import { ControlClient } from '../host/index.js'
import { CspaceError } from '../../errors.js'
import { LocalApiClient, type PendingRequest } from '../../sdk/index.js'
import type { NamedMessage } from './chat-control.js'
import { formatMessage, safeText } from './chat-format.js'

export class MessageNotDelivered extends CspaceError {
  constructor (reason: string) {
    super('MESSAGE_FAILED', `the message was not delivered: ${reason}`)
  }
}

export interface SendOutcome { state: 'delivered' | 'queued', name: string, id: string }

/**
 * `cspace chat NAME --send TEXT`: hands the message to the chat service and
 * waits up to `waitMs` for the acknowledgement. Queued is a success too: the
 * service delivers it when the recipient comes online.
 */
export async function sendOnce (user: string, text: string, options: { home?: string, waitMs: number }): Promise<SendOutcome> {
  const client = await ControlClient.open('chat', options.home)
  try {
    const { message, name } = await client.request<NamedMessage>('send', { to: user, text, waitMs: options.waitMs })
    if (message.state === 'failed') throw new MessageNotDelivered(message.error ?? 'refused')
    return { state: message.state === 'delivered' ? 'delivered' : 'queued', name: name ?? user, id: message.id }
  } finally {
    client.close()
  }
}

/** A chat from someone not in the contacts, waiting for the user's answer (a daemon prompt). */
export interface ChatRequest { id: string, fingerprint: string, userId: string, expiresAt: number }

export interface Inbox { messages: NamedMessage[], requests: ChatRequest[] }

/** `cspace chat --inbox`: unread messages (then marked read, unless `peek`) and chat requests from strangers. */
export async function readInbox (options: { home?: string, peek: boolean }): Promise<Inbox> {
  const client = await ControlClient.open('chat', options.home)
  try {
    const { messages } = await client.request<{ messages: NamedMessage[] }>('inbox')
    if (!options.peek && messages.length > 0) await client.request('markRead', { upto: messages[messages.length - 1].message.seq })
    const { requests } = await new LocalApiClient({ home: options.home }).get<{ requests: PendingRequest[] }>('/v1/requests')
    const fromStrangers = requests.filter(r => r.service === 'chat' && r.caller.contactName == null)
      .map(r => ({ id: r.id, fingerprint: r.caller.fingerprint, userId: r.caller.userId, expiresAt: r.expiresAt }))
    return { messages, requests: fromStrangers }
  } finally {
    client.close()
  }
}

export function formatInbox (inbox: Inbox): string {
  const lines: string[] = []
  for (const { message, name } of inbox.messages) lines.push(formatMessage(message, name ?? `${message.peer.slice(0, 12)}…`, { withDate: true }))
  for (const r of inbox.requests) {
    lines.push(`chat request from a stranger (fingerprint ${safeText(r.fingerprint)}): \`cspace requests allow ${r.id} --add-contact NAME\` to accept and add them, or \`cspace requests deny ${r.id}\``)
  }
  if (lines.length === 0) lines.push('no unread messages')
  return lines.join('\n') + '\n'
}

/** Unread counts per contact, for `cspace status`; undefined when the chat service is not running. */
export async function unreadCounts (options: { home?: string }): Promise<Array<{ peer: string, name?: string, count: number }> | undefined> {
  let client: ControlClient
  try { client = await ControlClient.open('chat', options.home) } catch { return undefined }
  try {
    return (await client.request<{ unread: Array<{ peer: string, name?: string, count: number }> }>('unread')).unread
  } finally {
    client.close()
  }
}
