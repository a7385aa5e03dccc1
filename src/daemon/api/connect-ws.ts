import { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { Stream } from '@libp2p/interface'
import type { RawData, WebSocket } from 'ws'
import { CspaceError } from '../../errors.js'
import { pipeSocketStream, validateServiceName, type SessionManager } from '../../session/index.js'
import { componentLogger } from '../../util/log.js'
import { ASKING_EVENT } from '../app-protocol.js'

/**
 * GET /v1/connect/ws?user=NAME_OR_ID&service=SERVICE[&progress=true] — connect(user, service)
 * for a browser, which can open WebSockets but not TCP connections (the web
 * UI's remote desktop: noVNC speaks RFB over it). Once the remote accepted,
 * every binary message from the page goes to the session as it is, and the
 * session's bytes come back as binary messages; a full side pauses the other
 * (pipeSocketStream, as for the application port). A refusal closes the
 * WebSocket with a code from CONNECT_CLOSE and the daemon's one-line message.
 * With `&progress=true` the page is told, in one text message before any of
 * the session's bytes, when the remote is asking its user first: the answer
 * may then take a minute (ASKING_MESSAGE; a page that did not ask for it gets
 * binary messages only).
 * Authentication is the API's (bearer token, or the UI's cookie with its own
 * Origin), checked on the upgrade request.
 */

const log = componentLogger('daemon:connect-ws')

/** WebSocket close codes the page can tell apart: 4000 + the HTTP status the refusal would have had. */
export const CONNECT_CLOSE = {
  sessionEnded: 1000,
  /** RFC 6455 "unsupported data": the session carries bytes, so text messages are refused. */
  textMessage: 1003,
  badRequest: 4400,
  notAllowed: 4403,
  notFound: 4404,
  failed: 4500,
  /** The session broke after it was up (a reset, the connection to the user lost). */
  cutOff: 4502,
  unreachable: 4503
} as const

/** RFC 6455 §5.5: a close frame's payload is at most 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123

/** A page cannot half-close: once its WebSocket is gone, a session the remote keeps open is cut off after this. */
const LINGER_AFTER_CLOSE_MS = 10_000

const REFUSAL_CLOSE_CODES: Record<string, number> = {
  CONTACT_NOT_FOUND: CONNECT_CLOSE.notFound,
  NO_SUCH_SERVICE: CONNECT_CLOSE.notFound,
  NOT_ALLOWED: CONNECT_CLOSE.notAllowed,
  USER_OFFLINE: CONNECT_CLOSE.unreachable,
  USER_UNREACHABLE: CONNECT_CLOSE.unreachable,
  SERVICE_UNREACHABLE: CONNECT_CLOSE.unreachable,
  BUSY: CONNECT_CLOSE.unreachable
}

/** The one text message the daemon ever sends here, and only with `progress=true`: the remote is asking its user (the application port's interim line). */
export const ASKING_MESSAGE = JSON.stringify(ASKING_EVENT)

interface ConnectQuery { user: string, service: string, progress?: boolean }

const query = {
  type: 'object',
  properties: { user: { type: 'string', minLength: 1, maxLength: 2048 }, service: { type: 'string', minLength: 1, maxLength: 64 }, progress: { type: 'boolean' } },
  required: ['user', 'service'],
  additionalProperties: false
}

export function registerConnectStream (app: FastifyInstance, daemon: { sessions: Pick<SessionManager, 'connect'> }): void {
  app.get<{ Querystring: ConnectQuery }>('/v1/connect/ws', {
    websocket: true,
    schema: { querystring: query },
    // a bad service name is refused before the upgrade, with the API's usual 400 body (InvalidServiceName)
    preHandler: async (req) => { validateServiceName(req.query.service) }
  }, (ws, req) => { bridge(ws, daemon.sessions, req.query) })
}

/** The close code for a failed connect: refusals by kind, usage errors (a bad user ID) as 4400. */
function closeCodeFor (err: unknown): number {
  if (!(err instanceof CspaceError)) return CONNECT_CLOSE.failed
  return REFUSAL_CLOSE_CODES[err.code] ?? (err.exitCode === 2 ? CONNECT_CLOSE.badRequest : CONNECT_CLOSE.failed)
}

/** One line of at most MAX_CLOSE_REASON_BYTES of UTF-8, cut at a character with an ellipsis if longer. */
export function closeReason (message: string): string {
  const line = message.replace(/\s+/g, ' ').trim()
  if (Buffer.byteLength(line) <= MAX_CLOSE_REASON_BYTES) return line
  const room = MAX_CLOSE_REASON_BYTES - Buffer.byteLength('…')
  let out = ''
  let bytes = 0
  for (const ch of line) {
    bytes += Buffer.byteLength(ch)
    if (bytes > room) break
    out += ch
  }
  return out + '…'
}

function closeSocket (ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.OPEN) ws.close(code, closeReason(reason))
}

function bridge (ws: WebSocket, sessions: Pick<SessionManager, 'connect'>, { user, service, progress }: ConnectQuery): void {
  const closed = new AbortController()
  ws.once('close', () => closed.abort())
  // made at once: what the page sends before the remote accepted waits in it (and pauses the WebSocket)
  const duplex = webSocketDuplex(ws)
  const onAsking = progress === true ? () => { if (ws.readyState === ws.OPEN) ws.send(ASKING_MESSAGE) } : undefined
  sessions.connect(user, service, { signal: closed.signal, onAsking }).then(async (stream) => {
    if (ws.readyState !== ws.OPEN) { stream.abort(new Error('the WebSocket closed while connecting')); return }
    cutOffAfterClose(ws, stream)
    await pipeSocketStream(duplex, stream)
  }, (err: unknown) => {
    log('connect %s %s over a WebSocket refused: %e', user, service, err)
    closeSocket(ws, closeCodeFor(err), (err as Error).message)
  }).catch((err: unknown) => { log.error('WebSocket session failed: %e', err) })
}

function cutOffAfterClose (ws: WebSocket, stream: Stream): void {
  ws.once('close', () => {
    if (stream.status !== 'open') return
    const timer = setTimeout(() => { stream.abort(new Error('the WebSocket closed')) }, LINGER_AFTER_CLOSE_MS)
    timer.unref()
    stream.addEventListener('close', () => { clearTimeout(timer) }, { once: true })
  })
}

function toBuffer (data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.isBuffer(data) ? data : Buffer.from(data)
}

/**
 * The WebSocket as the byte stream pipeSocketStream expects: binary messages
 * in (pushed as they come; the WebSocket pauses while they are not read),
 * binary messages out (a write completes once the frame reached the TCP
 * socket, so a page that does not read holds the session back). Ending the
 * writable side closes the WebSocket: a page cannot see a half-close. A text
 * message is refused with 1003, and nothing after it reaches the session.
 */
function webSocketDuplex (ws: WebSocket): Duplex {
  let refused = false
  const duplex = new Duplex({
    read: () => { if (ws.isPaused) ws.resume() },
    write: (chunk: Buffer, _encoding, callback) => { ws.send(chunk, { binary: true }, callback) },
    // the pieces that arrived together (pipeSocketStream corks for a tick) leave as one message
    writev: (chunks, callback) => { ws.send(chunks.length === 1 ? chunks[0].chunk as Buffer : Buffer.concat(chunks.map(c => c.chunk as Buffer)), { binary: true }, callback) },
    final: (callback) => { closeSocket(ws, CONNECT_CLOSE.sessionEnded, 'the session ended'); callback() },
    // after a normal end the WebSocket is closing already; otherwise the session broke
    destroy: (err, callback) => { closeSocket(ws, CONNECT_CLOSE.cutOff, 'the session was cut off'); callback(err) }
  })
  // the pipe adds its own once the session is up; until then an error must not go unhandled
  duplex.on('error', (err) => { log('WebSocket side: %e', err) })
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (refused) return
    if (!isBinary) {
      refused = true
      closeSocket(ws, CONNECT_CLOSE.textMessage, 'text message refused: this session carries binary messages only')
      return
    }
    if (!duplex.push(toBuffer(data))) ws.pause()
  })
  ws.once('close', () => { duplex.push(null) })
  ws.once('error', (err) => { duplex.destroy(err) })
  return duplex
}
