import type { FastifyInstance } from 'fastify'
import type { DaemonEvent, EventHub } from '../event-hub.js'

/** Messages the server sends on /v1/events/ws (JSON text frames, version 1). */
export type EventStreamMessage =
  | { v: 1, type: 'event', event: DaemonEvent }
  /** Events after `since` were dropped (the hub keeps the last few): reload the state, then follow. */
  | { v: 1, type: 'reset', seq: number }

/** A client that does not read is cut off rather than buffered without end; it reconnects and reloads. */
export const MAX_BUFFERED_BYTES = 1024 * 1024

const query = { type: 'object', properties: { since: { type: 'integer', minimum: 0 } }, additionalProperties: false }

/**
 * GET /v1/events/ws?since=SEQ: the daemon's events, live, over a WebSocket
 * (the web UI's feed of presence, prompts, tunnels). Events after SEQ that
 * the hub still holds come first; if some were dropped the stream says
 * `reset` first, so the client reloads its state instead of missing them.
 * Authentication is the API's (bearer token, or the UI's cookie from its own
 * origin), checked on the upgrade request.
 */
export function registerEventStream (app: FastifyInstance, events: EventHub): void {
  app.get<{ Querystring: { since?: number } }>('/v1/events/ws', { websocket: true, schema: { querystring: query } }, (socket, req) => {
    const send = (m: EventStreamMessage): void => {
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(1013, 'not reading; reconnect and reload')
        return
      }
      socket.send(JSON.stringify(m))
    }
    const since = req.query.since
    if (since != null) {
      const backlog = events.since(since)
      const latest = events.latestSeq()
      // a gap (events dropped), or a `since` from before a daemon restart (numbering starts again)
      const missed = since > latest || (backlog.length > 0 ? backlog[0].seq > since + 1 : latest > since)
      if (missed) send({ v: 1, type: 'reset', seq: latest })
      for (const event of missed ? [] : backlog) send({ v: 1, type: 'event', event })
    }
    const unsubscribe = events.subscribe((event) => { send({ v: 1, type: 'event', event }) })
    socket.on('message', () => { socket.close(1008, 'this stream takes no messages') })
    socket.on('close', unsubscribe)
    socket.on('error', unsubscribe)
  })
}
