import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, rmSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { FastifyInstance } from 'fastify'
import { APP_NAME, appPaths } from '../../store/index.js'

/**
 * POST /v1/apps/:app/uploads?name=FILE — a file from the browser, for an app.
 *
 * A page cannot hand an app a path on disk, only bytes (a dropped file). The
 * body (application/octet-stream, with its Content-Length) is streamed to
 * `apps/APP/uploads/<random>/FILE` (0700 directory, 0600 file), and the
 * answer is that path, which the page then gives the app over its control
 * channel (the files app sends it, and removes it once sent). Nothing is
 * kept of a body that stops short or does not fit on the disk.
 */

/** Disk space left free after an upload, so a browser cannot fill the disk the profile's database lives on. */
const DISK_RESERVE = 256 * 1024 * 1024

const params = { type: 'object', properties: { app: { type: 'string', pattern: APP_NAME.source } }, required: ['app'], additionalProperties: false }
const query = { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['name'], additionalProperties: false }

/** A file name the page may choose: one path component, nothing the file system treats specially. */
export function checkUploadName (name: string): string | undefined {
  if (name === '.' || name === '..' || /[/\\\x00-\x1f\x7f]/.test(name)) return 'the file name must be a plain name (no /, \\, control characters, "." or "..")'
  if (Buffer.byteLength(name) > 255) return 'the file name is longer than 255 bytes'
  return undefined
}

class Refused extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

export async function registerAppUploads (app: FastifyInstance, home: string): Promise<void> {
  // bytes promised to uploads still arriving: the disk has not seen them yet, but must have room for them
  let promised = 0
  await app.register(async (scope) => {
    // the body is the file, streamed to disk by the route, never parsed or held in memory
    scope.addContentTypeParser('application/octet-stream', (_req, _payload, done) => { done(null) })
    scope.post<{ Params: { app: string }, Querystring: { name: string } }>('/v1/apps/:app/uploads', { schema: { params, querystring: query } }, async (req, reply) => {
      const paths = appPaths(home, req.params.app)
      // a refused body is not read: the connection closes, or its unread bytes would be taken for the next request
      const refuse = (e: Refused): unknown => reply.code(e.status).header('connection', 'close').send({ error: { code: e.code, message: e.message } })
      if (!existsSync(paths.controlSocket)) return refuse(new Refused(404, 'APP_NOT_RUNNING', `the ${req.params.app} app is not running; start cspace daemon without --no-apps`))
      const bad = checkUploadName(req.query.name)
      if (bad != null) return refuse(new Refused(400, 'BAD_NAME', bad))
      if (req.headers['content-type'] !== 'application/octet-stream') return refuse(new Refused(415, 'BAD_TYPE', 'send the file as application/octet-stream'))
      const length = Number(req.headers['content-length'])
      if (!Number.isSafeInteger(length) || length < 0) return refuse(new Refused(411, 'LENGTH_REQUIRED', 'send the file with its Content-Length'))
      mkdirSync(paths.uploads, { recursive: true, mode: 0o700 })
      const free = statfsSync(paths.uploads)
      if (length + promised > free.bavail * free.bsize - DISK_RESERVE) return refuse(new Refused(507, 'DISK_FULL', `not enough disk space for ${length} bytes in ${paths.uploads}${promised > 0 ? ' beside the uploads under way' : ''}`))

      const dir = join(paths.uploads, randomBytes(12).toString('hex'))
      mkdirSync(dir, { mode: 0o700 })
      const path = join(dir, req.query.name)
      let received = 0
      // what arrived is on the disk, in statfs's count already: only the rest stays promised
      promised += length
      req.raw.on('data', (b: Buffer) => { received += b.length; promised -= b.length })
      try {
        await pipeline(req.raw, createWriteStream(path, { flags: 'wx', mode: 0o600 }))
        if (received !== length) throw new Refused(400, 'TRUNCATED', `the upload stopped after ${received} of ${length} bytes; send it again`)
      } catch (err) {
        rmSync(dir, { recursive: true, force: true })
        if (err instanceof Refused) return refuse(err)
        const e = err as NodeJS.ErrnoException
        if (e.code === 'ENOSPC') return refuse(new Refused(507, 'DISK_FULL', `the disk filled up while saving ${req.query.name}; nothing was kept`))
        throw err
      } finally {
        promised -= length - received
      }
      return await reply.code(201).send({ path, bytes: received })
    })
  })
}
