import type { FastifyInstance } from 'fastify'
import { sessionCookieName } from '../api-auth.js'
import type { UiSessions } from '../ui-sessions.js'

/** The longest login token taken: what `issueLoginToken` makes is shorter. */
const MAX_LOGIN_TOKEN = 128

/**
 * The web UI's login: POST /v1/ui/login (a program with the API token: `cspace
 * ui`) makes a one-time link; GET /ui/login?token= (the browser) spends it for
 * a session cookie and redirects to the UI with the session's key in the
 * fragment; GET /v1/ui/session says whether the session is still on; POST
 * /v1/ui/logout ends the session. GET / leads a browser to the UI's page.
 */
export function registerUiRoutes (app: FastifyInstance, sessions: UiSessions, port: () => number): void {
  app.post('/v1/ui/login', async (req, reply) => {
    if (req.uiSession != null) return await reply.code(403).send({ error: { code: 'FORBIDDEN', message: 'login links are made with the API token (`cspace ui`), not from a browser session' } })
    const { token, expiresAt } = sessions.issueLoginToken()
    return await reply.code(201).send({ url: `http://127.0.0.1:${port()}/ui/login?token=${token}`, expiresAt })
  })

  app.get<{ Querystring: { token?: unknown } }>('/ui/login', async (req, reply) => {
    // the token is in this URL: keep it out of caches and of the next page's Referer
    void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer')
    // a HEAD (a link checker, a prefetch) must not spend the one-time link the person is about to open
    if (req.method === 'HEAD') return await reply.code(200).type('text/plain; charset=utf-8').send()
    const token = req.query.token
    // a browser shows this page to a person: words, not an API error
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_LOGIN_TOKEN) {
      return await reply.code(400).type('text/plain; charset=utf-8').send('This login link is not whole (its token is missing or cut). Run `cspace ui` and open the whole link it prints.\n')
    }
    const session = sessions.redeem(token)
    if (session == null) {
      return await reply.code(401).type('text/plain; charset=utf-8').send('This login link has expired or was already used. Run `cspace ui` for a new one.\n')
    }
    void reply.setCookie(sessionCookieName(port()), session.id, { httpOnly: true, sameSite: 'strict', path: '/' })
    // the session's key goes to the page alone, in the fragment: never sent to a server, nor in a Referer (api-auth.ts)
    return await reply.code(303).header('location', `/ui/#session=${session.csrf}`).send()
  })

  // the daemon's address typed into a browser: the page there says how to log in
  app.get('/', async (_req, reply) => await reply.code(303).header('location', '/ui/').send())

  app.get('/v1/ui/session', async (req, reply) => {
    if (req.uiSession == null) return await reply.code(400).send({ error: { code: 'NO_SESSION', message: 'this is for the web UI; programs use the API token' } })
    return { ok: true }
  })

  app.post('/v1/ui/logout', async (req, reply) => {
    if (req.uiSession != null) sessions.end(req.uiSession.id)
    void reply.clearCookie(sessionCookieName(port()), { path: '/' })
    return { ok: true }
  })
}
