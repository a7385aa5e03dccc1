import { randomBytes } from 'node:crypto'
import { CspaceError } from '../../errors.js'
import { printable } from '../../util/printable.js'
import { describeWireValue } from '../../util/wire-value.js'

/**
 * The chat wire format between two users' chat services: one JSON object per
 * line, at most MAX_FRAME_BYTES, valid UTF-8, each carrying `v`. The caller
 * sends messages and typing notices; the callee answers each message with an
 * ack once it is stored, or with an error naming what was wrong.
 *
 *   → {"v":1,"t":"msg","id":"<32 hex>","at":1732550000000,"text":"hi"}
 *   ← {"v":1,"t":"ack","id":"<32 hex>"}
 *   → {"v":1,"t":"typing","on":true}
 *   ← {"v":1,"t":"error","code":"TOO_LONG","message":"…","id":"<32 hex>"}
 *
 * UNAVAILABLE means the recipient could not store the message right now (its
 * disk is full, say): the sender keeps it queued and tries again later.
 */
export const CHAT_WIRE_VERSION = 1
/** A message's text, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16 * 1024
/** A whole frame; JSON escaping can make the text up to six times longer. */
export const MAX_FRAME_BYTES = 8 * MAX_TEXT_BYTES

export type ChatErrorCode = 'TOO_LONG' | 'EMPTY' | 'BAD_UTF8' | 'BAD_FRAME' | 'UNSUPPORTED_VERSION' | 'UNAVAILABLE' | 'BUSY'

export type ChatFrame =
  | { v: 1, t: 'msg', id: string, at: number, text: string }
  | { v: 1, t: 'ack', id: string }
  | { v: 1, t: 'typing', on: boolean }
  | { v: 1, t: 'error', code: ChatErrorCode, message: string, id?: string }

/** A frame or message that breaks the format; `id` names the message it concerns, if known. A usage error when the text is the user's own. */
export class ChatWireError extends CspaceError {
  constructor (readonly wireCode: ChatErrorCode, message: string, readonly id?: string) {
    super(`CHAT_${wireCode}`, message, 2)
  }
}

const MESSAGE_ID = /^[0-9a-f]{32}$/
// a timestamp from year 2000 to 2200: anything else is a broken clock or a forgery
const MIN_AT = 946_684_800_000
const MAX_AT = 7_258_118_400_000
const ERROR_CODES: readonly string[] = ['TOO_LONG', 'EMPTY', 'BAD_UTF8', 'BAD_FRAME', 'UNSUPPORTED_VERSION', 'UNAVAILABLE', 'BUSY']

export function newMessageId (): string {
  return randomBytes(16).toString('hex')
}

/** Checks a message's text; throws ChatWireError (TOO_LONG, EMPTY) with a line for the user. */
export function checkText (text: string, id?: string): string {
  if (text.length === 0 || text.trim().length === 0) throw new ChatWireError('EMPTY', 'the message is empty', id)
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_TEXT_BYTES) throw new ChatWireError('TOO_LONG', `the message is ${bytes} bytes; the limit is ${MAX_TEXT_BYTES} (split it, or send a file with \`cspace send\`)`, id)
  // a lone surrogate cannot be encoded as UTF-8: the receiver would see U+FFFD, not what was written
  if (Buffer.from(text, 'utf8').toString('utf8') !== text) throw new ChatWireError('BAD_UTF8', 'the message holds text that is not valid Unicode', id)
  return text
}

/** Validates one decoded line; throws ChatWireError naming the problem. */
export function parseChatFrame (m: Record<string, unknown>): ChatFrame {
  if (m.v !== CHAT_WIRE_VERSION) throw new ChatWireError('UNSUPPORTED_VERSION', `chat wire version ${describeWireValue(m.v)} is not supported; this side speaks ${CHAT_WIRE_VERSION}`)
  const id = typeof m.id === 'string' && MESSAGE_ID.test(m.id) ? m.id : undefined
  switch (m.t) {
    case 'msg': {
      if (id == null) throw new ChatWireError('BAD_FRAME', 'a message needs an id of 32 hex digits')
      if (typeof m.at !== 'number' || !Number.isInteger(m.at) || m.at < MIN_AT || m.at > MAX_AT) throw new ChatWireError('BAD_FRAME', 'a message needs a timestamp (ms since 1970)', id)
      if (typeof m.text !== 'string') throw new ChatWireError('BAD_FRAME', 'a message needs a text', id)
      return { v: 1, t: 'msg', id, at: m.at, text: checkText(m.text, id) }
    }
    case 'ack':
      if (id == null) throw new ChatWireError('BAD_FRAME', 'an ack needs an id of 32 hex digits')
      return { v: 1, t: 'ack', id }
    case 'typing':
      if (typeof m.on !== 'boolean') throw new ChatWireError('BAD_FRAME', 'a typing notice needs "on": true or false')
      return { v: 1, t: 'typing', on: m.on }
    case 'error': {
      const code = typeof m.code === 'string' && ERROR_CODES.includes(m.code) ? m.code as ChatErrorCode : 'BAD_FRAME'
      // shown on terminals, on one line, and kept with the message: no escape sequences from the peer
      const message = typeof m.message === 'string' ? printable(m.message.slice(0, 300)) : 'the other side refused a message'
      return id == null ? { v: 1, t: 'error', code, message } : { v: 1, t: 'error', code, message, id }
    }
    default:
      throw new ChatWireError('BAD_FRAME', `unknown frame type ${describeWireValue(m.t, 40)}`, id)
  }
}

export function encodeChatFrame (frame: ChatFrame): string {
  return JSON.stringify(frame) + '\n'
}
