import { openSocket } from './session-key'

/** What reconnectingSocket calls; `onClose` says whether to open it again. */
export interface SocketHandlers {
  onOpen: (socket: WebSocket) => void
  onMessage: (data: string) => void
  onClose: (event: CloseEvent) => boolean | Promise<boolean>
}

/**
 * A WebSocket to `path` on this page's origin, opened again after each close
 * with backoff (1 s doubling to 30 s) until `close()` or until `onClose`
 * answers false. The events stream and every app channel use it.
 */
export function reconnectingSocket (path: string, handlers: SocketHandlers): { current: () => WebSocket | undefined, close: () => void } {
  let socket: WebSocket | undefined
  let delay = 1000
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const open = (): void => {
    const ws = openSocket(path)
    socket = ws
    ws.onopen = () => { delay = 1000; handlers.onOpen(ws) }
    ws.onmessage = (m) => { handlers.onMessage(String(m.data)) }
    ws.onclose = (e) => {
      if (stopped) return
      void Promise.resolve(handlers.onClose(e)).then((again) => {
        if (stopped || !again) { stopped = true; return }
        timer = setTimeout(open, delay)
        delay = Math.min(delay * 2, 30_000)
      })
    }
  }
  open()
  return { current: () => socket, close: () => { stopped = true; clearTimeout(timer); socket?.close() } }
}
