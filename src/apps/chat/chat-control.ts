import { UsageError } from '../../errors.js'
import type { ControlHandler } from '../host/index.js'
import { checkText, newMessageId } from './chat-wire.js'
import type { ChatHost } from './chat-host.js'
import type { ChatMessage } from './chat-store.js'

/** A message with the other user's contact name, as front ends show it. */
export interface NamedMessage { message: ChatMessage, name?: string }

const MAX_HISTORY = 1000
const MAX_WAIT_MS = 120_000

function str (params: Record<string, unknown>, key: string): string {
  const v = params[key]
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`"${key}" must be a non-empty string`)
  if (v.length > 4096) throw new UsageError(`"${key}" is over 4096 characters: no contact name or user ID is that long`)
  return v
}

function int (params: Record<string, unknown>, key: string, fallback: number, max: number): number {
  const v = params[key]
  if (v == null) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new UsageError(`"${key}" must be a whole number`)
  return Math.min(v, max)
}

/**
 * The chat host's control operations (see host/control-channel.ts for the framing):
 * send, history, inbox, unread, markRead, typing, subscribe.
 */
export function chatControlHandlers (host: ChatHost): Record<string, ControlHandler> {
  const named = async (messages: ChatMessage[]): Promise<NamedMessage[]> => {
    return await Promise.all(messages.map(async (message) => ({ message, name: await host.contacts.nameOf(message.peer) })))
  }
  return {
    /** {to, text, waitMs?} → {message, name}: queued, then delivered or failed if settled within waitMs. */
    send: async (p) => {
      const { userId, name } = await host.contacts.resolve(str(p, 'to'))
      const text = checkText(typeof p.text === 'string' ? p.text : '')
      const queued = host.send(userId, newMessageId(), text)
      const waitMs = int(p, 'waitMs', 0, MAX_WAIT_MS)
      const settled = waitMs > 0 ? await host.waitSettled(queued.id, waitMs) : undefined
      return { message: settled ?? queued, name }
    },
    /** {with, limit?} → {peer, name, messages} */
    history: async (p) => {
      const { userId, name } = await host.contacts.resolve(str(p, 'with'))
      return { peer: userId, name, messages: host.store.history(userId, int(p, 'limit', 50, MAX_HISTORY)) }
    },
    /** {} → {messages: NamedMessage[]}, every unread incoming message */
    inbox: async () => ({ messages: await named(host.store.unread()) }),
    /** {} → {unread: [{peer, name, count}]} */
    unread: async () => {
      return { unread: await Promise.all(host.store.unreadCounts().map(async (u) => ({ ...u, name: await host.contacts.nameOf(u.peer) }))) }
    },
    /** {with?, upto} → {marked}: marks read up to seq `upto` (what the front end has shown) */
    markRead: async (p) => {
      const peer = p.with == null ? undefined : (await host.contacts.resolve(str(p, 'with'))).userId
      return { marked: host.store.markRead(peer, int(p, 'upto', 0, Number.MAX_SAFE_INTEGER)) }
    },
    /** {to, on} */
    typing: async (p) => {
      const { userId } = await host.contacts.resolve(str(p, 'to'))
      host.typing(userId, p.on === true)
      return {}
    },
    /** {} : from now on this front end gets message/delivered/failed/typing/waiting events */
    subscribe: (_p, peer) => { peer.subscribed = true; return {} }
  }
}
