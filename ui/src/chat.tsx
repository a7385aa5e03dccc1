import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import type { AppChannel } from './app-channel'
import type { ChatMessage } from './types'

/** Within this many pixels of the end, the list follows new messages. */
const FOLLOW_SLACK_PX = 48
/** How long "is typing" shows after the last notice (the sender repeats it every few seconds while typing). */
const TYPING_SHOWN_MS = 6000
const TYPING_RESEND_MS = 3000

/**
 * A conversation with one contact: history, live messages, delivery marks,
 * the typing indicator both ways. Messages to a contact who is offline stay
 * queued in the chat app and go out when they come online.
 */
export function ChatPanel ({ id, contact, chat, onRead }: { id: string, contact: string, chat: AppChannel, onRead: () => void }) {
  const [messages, setMessages] = useState<ChatMessage[]>([])
  const [peer, setPeer] = useState<string | undefined>()
  const [typing, setTyping] = useState(false)
  const [text, setText] = useState('')
  const [error, setError] = useState<string | undefined>()
  const typingSentAt = useRef(0)
  const typingTimer = useRef<ReturnType<typeof setTimeout>>()
  const peerRef = useRef<string>()
  const list = useRef<HTMLOListElement>(null)
  /** The list was at its end before this render: new messages keep it there (scrolling up stops that). */
  const following = useRef(true)

  useEffect(() => {
    const load = (): void => {
      chat.request<{ peer: string, messages: ChatMessage[] }>('history', { with: contact, limit: 200 }).then((h) => {
        peerRef.current = h.peer
        setPeer(h.peer)
        setMessages(h.messages)
        setError(undefined)
        markRead(h.messages)
      }, (err: Error) => setError(err.message))
    }
    const markRead = (list: ChatMessage[]): void => {
      const upto = Math.max(0, ...list.filter(m => m.direction === 'in').map(m => m.seq))
      if (upto > 0) chat.request('markRead', { with: contact, upto }).then(onRead, () => {})
    }
    const offEvent = chat.onEvent((event, data) => {
      if (event === 'typing') {
        const t = data as { peer: string, on: boolean }
        if (t.peer !== peerRef.current) return
        clearTimeout(typingTimer.current)
        setTyping(t.on)
        if (t.on) typingTimer.current = setTimeout(() => setTyping(false), TYPING_SHOWN_MS)
        return
      }
      if (event !== 'message' && event !== 'delivered' && event !== 'failed') return
      const m = (data as { message: ChatMessage }).message
      if (m.peer !== peerRef.current) return
      if (m.direction === 'in') { setTyping(false); markRead([m]) }
      setMessages(list => {
        const i = list.findIndex(x => x.id === m.id)
        return i < 0 ? [...list, m] : list.map((x, j) => j === i ? m : x)
      })
    })
    const offOpen = chat.onOpen(load)
    return () => { offEvent(); offOpen(); clearTimeout(typingTimer.current) }
  }, [chat, contact])

  useLayoutEffect(() => {
    const el = list.current
    if (el != null && following.current) el.scrollTop = el.scrollHeight
  }, [messages])

  const send = async (e: Event): Promise<void> => {
    e.preventDefault()
    const body = text
    if (body.trim() === '') return
    // cleared now, not when the daemon answers: what is typed meanwhile is the next message
    setText('')
    typingSentAt.current = 0
    following.current = true
    try {
      await chat.request('send', { to: contact, text: body })
      setError(undefined)
    } catch (err) {
      setText(now => now === '' ? body : now) // given back, unless the next one is being typed
      // the error names the message: given back or not, it is not lost from sight
      setError(`not sent: "${body.length > 60 ? `${body.slice(0, 60)}…` : body}": ${(err as Error).message}`)
    }
  }
  const onInput = (value: string): void => {
    setText(value)
    if (Date.now() - typingSentAt.current > TYPING_RESEND_MS) {
      typingSentAt.current = Date.now()
      void chat.request('typing', { to: contact, on: true }).catch(() => {})
    }
  }

  return (
    <div id={id} class="chat">
      {peer == null && error == null && <p>Loading the conversation…</p>}
      <ol class="messages" ref={list} aria-label={`Conversation with ${contact}`} aria-live="polite"
        onScroll={(e) => { const el = e.currentTarget; following.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_SLACK_PX }}>
        {messages.map(m => (
          <li key={m.id} class={m.direction} data-state={m.state}>
            {/* bdi: a name or text in a right-to-left script does not carry the time along with it */}
            <bdi class="who">{m.direction === 'out' ? 'You' : contact}</bdi>{' '}
            <bdi class="text">{m.text}</bdi>{' '}
            <small class="mark" title={m.error ?? undefined}>{mark(m)}</small>
          </li>
        ))}
      </ol>
      <p class="typing" aria-live="polite">{typing ? `${contact} is typing…` : ''}</p>
      <form class="compose" onSubmit={(e) => { void send(e) }}>
        <label for={`${id}-text`}>Message to {contact}</label>
        <input id={`${id}-text`} value={text} onInput={(e) => onInput(e.currentTarget.value)} maxLength={16000} autocomplete="off" />
        <button type="submit">Send</button>
      </form>
      {error != null && <p role="alert" class="problem">{error}</p>}
    </div>
  )
}

function mark (m: ChatMessage): string {
  const at = new Date(m.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  if (m.direction === 'in') return at
  if (m.state === 'delivered') return `${at} · delivered`
  if (m.state === 'failed') return `${at} · failed${m.error != null ? `: ${m.error}` : ''}`
  return `${at} · queued`
}
