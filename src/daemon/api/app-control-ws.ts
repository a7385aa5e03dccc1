import { existsSync } from 'node:fs'
import { createConnection } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { WebSocket } from 'ws'
import { APP_NAME, appPaths } from '../../store/index.js'

/**
 * GET /v1/apps/:app/control — the web UI's way to an app's background part.
 *
 * The apps (chat, files) run beside the daemon and serve their front ends
 * JSON lines on a Unix control socket (apps/host/control-channel.ts); the
 * daemon does not know them, only the profile's layout (`appPaths`). This
 * route joins a WebSocket to that socket: each text message from the page is
 * one request (a JSON object, written as one line), each line the app sends
 * is one text message. The app validates what it is asked; the bridge only
 * makes sure a message is one JSON object, so the page cannot split or join
 * lines, and sets its `via` to "web". Authentication is the API's (the
 * upgrade is origin-checked).
 */

/** A line from the app (its own limit is 1 MiB) and a little framing. */
export const MAX_APP_LINE = 1024 * 1024 + 1024
/** A page that stops reading is cut off, and reloads when it reconnects. */
const MAX_BUFFERED_TO_PAGE = 8 * 1024 * 1024

/** WebSocket close codes the page can tell apart (4000–4999 are the application's). */
export const APP_CLOSE = { notRunning: 4004, appWentAway: 4010, badMessage: 1007, notReading: 1013 } as const

const params = { type: 'object', properties: { app: { type: 'string', pattern: APP_NAME.source } }, required: ['app'], additionalProperties: false }

export function registerAppControlBridge (app: FastifyInstance, home: string): void {
  app.get<{ Params: { app: string } }>('/v1/apps/:app/control', {
    websocket: true,
    schema: { params },
    // refused before the upgrade, with the API's usual error body, when the app is not running
    preValidation: async (req, reply) => {
      if (APP_NAME.test(req.params.app) && !existsSync(appPaths(home, req.params.app).controlSocket)) {
        return await reply.code(404).send({ error: { code: 'APP_NOT_RUNNING', message: notRunning(req.params.app) } })
      }
    }
  }, (ws, req) => { bridge(ws, appPaths(home, req.params.app).controlSocket, req.params.app) })
}

function notRunning (app: string): string {
  return `the ${app} app is not running; start cspace daemon without --no-apps`
}

function bridge (ws: WebSocket, socketPath: string, app: string): void {
  const control = createConnection(socketPath)
  let pending: Buffer = Buffer.alloc(0)
  const close = (code: number, reason: string): void => {
    control.destroy()
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason)
  }
  control.on('error', (err: NodeJS.ErrnoException) => {
    const absent = err.code === 'ECONNREFUSED' || err.code === 'ENOENT'
    close(absent ? APP_CLOSE.notRunning : APP_CLOSE.appWentAway, absent ? notRunning(app) : `the ${app} app went away`)
  })
  control.on('close', () => close(APP_CLOSE.appWentAway, `the ${app} app went away`))
  control.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    let nl: number
    while ((nl = pending.indexOf(0x0a)) >= 0) {
      const line = pending.subarray(0, nl).toString('utf8')
      pending = pending.subarray(nl + 1)
      if (ws.bufferedAmount > MAX_BUFFERED_TO_PAGE) { close(APP_CLOSE.notReading, 'not reading; reconnect and reload'); return }
      ws.send(line)
    }
    if (pending.length > MAX_APP_LINE) close(APP_CLOSE.appWentAway, `the ${app} app sent a line over the limit`)
  })
  ws.on('message', (data, isBinary) => {
    let request: unknown
    try {
      request = isBinary ? undefined : JSON.parse(String(data))
    } catch {}
    if (request == null || typeof request !== 'object' || Array.isArray(request)) {
      close(APP_CLOSE.badMessage, 'each message must be one JSON object (a control request)')
      return
    }
    // re-serialised: one object, one line, whatever whitespace the page sent; marked as a page's, so an
    // app can keep some operations to the user's own programs (the files app's sendPaths names any path)
    let line: string
    try {
      line = JSON.stringify({ ...request, via: 'web' }) + '\n'
    } catch {
      // JSON.parse takes nesting that JSON.stringify's recursion cannot (RangeError): a thrown error here would end the daemon
      close(APP_CLOSE.badMessage, 'the message is nested too deeply to be a control request')
      return
    }
    if (!control.write(line)) {
      ws.pause()
      control.once('drain', () => ws.resume())
    }
  })
  ws.on('close', () => control.destroy())
  ws.on('error', () => control.destroy())
}
