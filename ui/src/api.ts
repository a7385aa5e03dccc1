import type { ApiErrorBody, DaemonEvent, EventStreamMessage } from './types'
import { reconnectingSocket } from './reconnecting-socket'
import { keyHeader, takeSessionKeyFromUrl } from './session-key'
import { inPageWords } from './page-words'

/** A refusal from the daemon, with its message meant for people (in the page's words: page-words.ts). */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(inPageWords(code, message))
  }
}

/** True while the daemon knows this page's session: its cookie and its key (session-key.ts). */
async function sessionIsOn (signal?: AbortSignal): Promise<boolean> {
  const res = await fetch('/v1/ui/session', { headers: keyHeader(), signal })
  if (res.status === 401 || res.status === 403) return false
  await answer<unknown>(res)
  return true
}

/** Picks up the session the login link made; false when there is none (the page was opened without `cspace ui`). */
export async function startSession (): Promise<boolean> {
  takeSessionKeyFromUrl()
  return await sessionIsOn()
}

export async function get<T> (path: string): Promise<T> {
  return await answer<T>(await fetch(path, { headers: keyHeader() }))
}

/** A change: same-origin, with the session's key (the daemon refuses it otherwise). */
export async function post<T> (path: string, body: unknown): Promise<T> {
  return await answer<T>(await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...keyHeader() }, body: JSON.stringify(body) }))
}

export async function del<T> (path: string): Promise<T> {
  return await answer<T>(await fetch(path, { method: 'DELETE', headers: keyHeader() }))
}

/**
 * Uploads a file for an app (POST /v1/apps/APP/uploads), reporting progress:
 * XMLHttpRequest, as fetch reports no upload progress.
 */
export async function uploadFile (app: string, file: File, onProgress: (loaded: number) => void): Promise<{ path: string }> {
  return await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/v1/apps/${app}/uploads?name=${encodeURIComponent(file.name)}`)
    xhr.setRequestHeader('content-type', 'application/octet-stream')
    for (const [name, value] of Object.entries(keyHeader())) xhr.setRequestHeader(name, value)
    xhr.upload.onprogress = (e) => onProgress(e.loaded)
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', `could not upload ${file.name}: the daemon did not answer`))
    xhr.onload = () => {
      let body: { path?: string, error?: { code: string, message: string } } = {}
      try { body = JSON.parse(xhr.responseText) } catch {}
      if (xhr.status === 201 && body.path != null) resolve({ path: body.path })
      else reject(new ApiError(xhr.status, body.error?.code ?? 'HTTP_' + String(xhr.status), body.error?.message ?? `the daemon answered ${xhr.status}`))
    }
    xhr.send(file)
  })
}

async function answer<T> (res: Response): Promise<T> {
  const body = await res.json().catch(() => undefined) as unknown
  if (!res.ok) {
    const e = (body as ApiErrorBody | undefined)?.error
    throw new ApiError(res.status, e?.code ?? 'HTTP_' + String(res.status), e?.message ?? `the daemon answered ${res.status}`)
  }
  return body as T
}

/** How long a closed event stream waits for the daemon to say whether the session lasts. */
const SESSION_CHECK_MS = 5000

/** The events stream: open; closed but the daemon answers; or nothing answering at this address. */
export type Link = 'live' | 'reconnecting' | 'unreachable'

/**
 * Follows the daemon's events over a WebSocket, reconnecting with backoff
 * (reconnectingSocket) while the session lasts (`onSessionEnded` once it
 * does not: the daemon restarted, or the user logged out). `onChange` gets every event, and is called with
 * none after every (re)connection and on a `reset`, since events may have
 * been missed: the UI then reloads what it shows.
 */
export function followEvents (onChange: (event?: DaemonEvent) => void, onLink: (link: Link) => void, onSessionEnded: () => void): () => void {
  const events = reconnectingSocket('/v1/events/ws', {
    onOpen: () => { onLink('live'); onChange() },
    onMessage: (data) => {
      const msg = JSON.parse(data) as EventStreamMessage
      if (msg.v === 1) onChange(msg.type === 'event' ? msg.event : undefined)
    },
    onClose: async () => {
      onLink('reconnecting')
      // a restarted daemon has forgotten the session: say so rather than retry for ever;
      // nothing answering at all (or not in time: a daemon frozen, a network gone) is a
      // daemon stopped, or restarted on another port; an error answer is still an answer
      const on = await sessionIsOn(AbortSignal.timeout(SESSION_CHECK_MS))
        .catch((err: Error) => err instanceof TypeError || err.name === 'TimeoutError' || err.name === 'AbortError' ? undefined : true)
      onLink(on == null ? 'unreachable' : 'reconnecting')
      if (on === false) onSessionEnded()
      return on !== false
    }
  })
  return events.close
}
