import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { cleanupAll, makeProfile, runCli, startDaemon } from '../helpers/cli.js'

/** Sends raw bytes to the application port and returns everything it answers before closing. */
async function exchange (port: number, bytes: Buffer | string, endAfter = true): Promise<string> {
  const s: Socket = connect(port, '127.0.0.1')
  await once(s, 'connect')
  let got = ''
  s.setEncoding('utf8')
  s.on('data', (c: string) => { got += c })
  s.on('error', () => {})
  if (endAfter) s.end(bytes)
  else s.write(bytes)
  await once(s, 'close')
  return got
}

/** The application port is a parser of local input: it too has limits and clear refusals. */
describe('application port', () => {
  let port: number
  let token: string
  let home: string

  before(async () => {
    const p = await makeProfile('app')
    home = p.home
    await startDaemon(home)
    port = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')).appPort
    token = readFileSync(join(home, 'api-token'), 'utf8').trim()
  })

  after(async () => { await cleanupAll() })

  const reply = (text: string): { ok: boolean, code: string, message: string, usage?: boolean } => JSON.parse(text.split('\n')[0])

  test('a wrong token, bad JSON, an unknown op or version are refused in one line', async () => {
    assert.equal(reply(await exchange(port, JSON.stringify({ v: 1, token: 'nope', op: 'connect', user: 'x', service: 'y' }) + '\n')).code, 'UNAUTHORIZED')
    assert.match(reply(await exchange(port, '{oops\n')).message, /must be JSON/)
    assert.match(reply(await exchange(port, JSON.stringify({ v: 1, token, op: 'teleport' }) + '\n')).message, /unknown op/)
    assert.match(reply(await exchange(port, JSON.stringify({ v: 7, token, op: 'listen', service: 'x' }) + '\n')).message, /unsupported version 7/)
    assert.match(reply(await exchange(port, JSON.stringify({ v: 1, token, op: 'connect', user: '', service: 'y' }) + '\n')).message, /"user" must be a non-empty string/)
    assert.match(reply(await exchange(port, JSON.stringify({ v: 1, token, op: 'connect', user: 'x', service: 'y', progress: 'yes' }) + '\n')).message, /"progress" must be true or false/)
  })

  test('an oversized or truncated first line is refused; the port keeps serving', async () => {
    const big = await exchange(port, 'x'.repeat(100_000), false)
    assert.match(reply(big).message, /longer than 4096 bytes/)
    const truncated = await exchange(port, '{"v":1,"token":')
    assert.match(reply(truncated).message, /closed before the first line/)
    const nobody = reply(await exchange(port, JSON.stringify({ v: 1, token, op: 'connect', user: 'nobody', service: 'y' }) + '\n'))
    assert.equal(nobody.code, 'CONTACT_NOT_FOUND')
    assert.equal(nobody.usage, true, 'an unknown contact is the caller\'s mistake (the CLI exits 2)')
    assert.equal((await runCli(home, ['status'])).code, 0)
  })
})
