import { existsSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { packageFile } from '../../util/package-files.js'

/** The built web UI (`npm run build` → dist/ui). */
export const UI_DIR = packageFile('dist', 'ui') + '/'

/**
 * Only the page's own files: no inline script or style, no other origin, no
 * framing. connect-src 'self' covers the same-origin WebSocket.
 */
export const UI_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"
].join('; ')

/** GET /ui/…: the web UI's files, with a strict CSP. They hold no secret; everything they show comes from the API, which needs the session. */
export async function registerUiPages (app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (req, reply) => {
    if (!req.url.startsWith('/ui')) return
    void reply.header('content-security-policy', UI_CSP).header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer').header('cross-origin-opener-policy', 'same-origin')
  })
  if (!existsSync(`${UI_DIR}index.html`)) {
    app.get('/ui/*', async (_req, reply) => await reply.code(503).type('text/plain; charset=utf-8').send('The web UI is not built in this installation (npm run build).\n'))
    return
  }
  await app.register(fastifyStatic, { root: UI_DIR, prefix: '/ui/', index: ['index.html'], redirect: true })
}
