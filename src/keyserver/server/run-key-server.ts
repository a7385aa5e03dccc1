import { KeyServerError } from '../errors.js'
import type { FastifyInstance } from 'fastify'
import { openKeyStore, redactDbUrl } from '../store/open-key-store.js'
import type { KeyStore } from '../store/key-store.js'
import { buildKeyServerApp, DEFAULT_KEYSERVER_OPTIONS, type KeyServerOptions } from './key-server-app.js'

export interface RunKeyServerOptions extends Partial<Omit<KeyServerOptions, 'store'>> {
  db: string
  host: string
  port: number
}

export interface RunningKeyServer {
  url: string
  app: FastifyInstance
  store: KeyStore
  /** Stops taking connections, lets requests in flight finish, closes the store. */
  close: () => Promise<void>
}

/** Opens the store and listens; logs one structured line saying where. */
export async function runKeyServer (options: RunKeyServerOptions): Promise<RunningKeyServer> {
  const store = await openKeyStore(options.db)
  let app: FastifyInstance
  try {
    app = await buildKeyServerApp({ ...DEFAULT_KEYSERVER_OPTIONS, logger: { level: 'info' }, ...options, store })
    await app.listen({ host: options.host, port: options.port })
  } catch (err) {
    await store.close()
    // as the daemon's ports: a usage error, with what to do
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new KeyServerError('PORT_IN_USE', `port ${options.port} on ${options.host} is already in use; pick another with --port`, 409, 2)
    if (code === 'EADDRNOTAVAIL') throw new KeyServerError('BAD_HOST', `--host ${options.host} is not an address of this machine; give one of its addresses, or 0.0.0.0 for all`, 400, 2)
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new KeyServerError('BAD_HOST', `--host ${options.host} does not resolve to an address; give an IP address of this machine, or 0.0.0.0 for all`, 400, 2)
    if (code === 'EACCES') throw new KeyServerError('PORT_FORBIDDEN', `port ${options.port} needs privileges to listen on; pick one above 1023 with --port (and put a proxy on 80/443)`, 403, 2)
    throw err
  }
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : options.port
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`
  app.log.info({ event: 'keyserver-listening', url, store: store.kind, db: redactDbUrl(options.db) }, 'key server listening')

  // nonces older than the clock window can never be replayed: their operations are stale by then
  const window = options.clockWindowMs ?? DEFAULT_KEYSERVER_OPTIONS.clockWindowMs
  const purge = setInterval(() => {
    store.purgeNonces(Date.now() - 2 * window).catch(err => app.log.warn({ err }, 'nonce purge failed'))
  }, 60_000)
  purge.unref()

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(purge)
      await app.close()
      await store.close()
    })()
    await closing
  }
  return { url, app, store, close }
}
