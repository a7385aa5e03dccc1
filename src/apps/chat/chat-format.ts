import type { ChatMessage } from './chat-store.js'

// C0/C1 controls (but tab and newline), and the bidi overrides that can make text read backwards:
// a peer's message must not be able to move the cursor, recolour the terminal or disguise itself
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/** Text from a peer, made safe to print on a terminal. */
export function safeText (text: string): string {
  return text.replace(UNSAFE, '\uFFFD')
}

export function clock (ms: number, withDate = false): string {
  const d = new Date(ms)
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
  return withDate ? `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${hm}` : hm
}

export const MARKS: Record<ChatMessage['state'], string> = { queued: '…', delivered: '✓', failed: '✗', unread: '', read: '' }

/** One message as a line (continuation lines indented): "[17:03] you: hello ✓". */
export function formatMessage (m: ChatMessage, peerName: string, opts: { withDate?: boolean } = {}): string {
  const who = m.direction === 'out' ? 'you' : safeText(peerName)
  const body = safeText(m.text).split('\n').join('\n        ')
  const mark = MARKS[m.state] === '' ? '' : ` ${MARKS[m.state]}`
  const why = m.state === 'failed' && m.error != null ? ` (${safeText(m.error)})` : ''
  return `[${clock(m.storedAt, opts.withDate)}] ${who}: ${body}${mark}${why}`
}

/** A short quote of a message for status lines. */
export function quote (text: string, max = 40): string {
  const one = safeText(text).replace(/\s+/g, ' ')
  return JSON.stringify(one.length > max ? one.slice(0, max - 1) + '…' : one)
}
