import type { ApiErrorBody, DaemonEvent, EventStreamMessage } from './types'

/** A refusal from the daemon, with its message meant for people. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

let csrf = ''

/** Picks up the session the login link made; false when there is none (the page was opened without `cspace ui`). */
export async function startSession (): Promise<boolean> {
  const res = await fetch('/v1/ui/session')
  if (res.status === 401) return false
  csrf = (await answer<{ csrf: string }>(res)).csrf
  return true
}

export async function get<T> (path: string): Promise<T> {
  return await answer<T>(await fetch(path))
}

/** A change: same-origin, with the session's CSRF token (the daemon refuses it otherwise). */
export async function post<T> (path: string, body: unknown): Promise<T> {
  return await answer<T>(await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cspace-csrf': csrf }, body: JSON.stringify(body) }))
}

export async function del<T> (path: string): Promise<T> {
  return await answer<T>(await fetch(path, { method: 'DELETE', headers: { 'x-cspace-csrf': csrf } }))
}

async function answer<T> (res: Response): Promise<T> {
  const body = await res.json().catch(() => undefined) as unknown
  if (!res.ok) {
    const e = (body as ApiErrorBody | undefined)?.error
    throw new ApiError(res.status, e?.code ?? 'HTTP_' + String(res.status), e?.message ?? `the daemon answered ${res.status}`)
  }
  return body as T
}

/**
 * Follows the daemon's events over a WebSocket, reconnecting with backoff
 * (1 s doubling to 30 s). `onChange` gets every event, and is called with
 * none after every (re)connection and on a `reset`, since events may have
 * been missed: the UI then reloads what it shows.
 */
export function followEvents (onChange: (event?: DaemonEvent) => void, onLive: (live: boolean) => void): () => void {
  let socket: WebSocket | undefined
  let delay = 1000
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const open = (): void => {
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/events/ws`)
    socket.onopen = () => { delay = 1000; onLive(true); onChange() }
    socket.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as EventStreamMessage
      if (msg.v === 1) onChange(msg.type === 'event' ? msg.event : undefined)
    }
    socket.onclose = () => {
      onLive(false)
      if (stopped) return
      timer = setTimeout(open, delay)
      delay = Math.min(delay * 2, 30_000)
    }
  }
  open()
  return () => { stopped = true; clearTimeout(timer); socket?.close() }
}
