import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { cleanupAll, makeProfile, runCli, startDaemon } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

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

  test('a refused program that keeps its side open is cut off, not kept for ever', async () => {
    // allowHalfOpen: this client does not end its side when the daemon ends its own
    const s: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    await once(s, 'connect')
    let got = ''
    s.setEncoding('utf8')
    s.on('data', (c: string) => { got += c })
    let closed = false
    s.on('error', () => {})
    s.on('close', () => { closed = true })
    s.write('{oops\n')
    await once(s, 'end')
    assert.match(reply(got).message, /must be JSON/)
    // the daemon closing its socket shows only as a reset answering a write
    await waitFor('the daemon to close the refused socket', () => { if (!closed) s.write('x'); return closed }, 10_000, 200)
  })

  test('past 128 connections being set up, the next 128 are told "busy"; more are closed at once, so a flood holds no descriptor each', async () => {
    const opened: Socket[] = []
    const open = async (): Promise<Socket> => {
      // half-open: told "busy" and ended by the daemon, ours stays open, as a program that does not close would
      const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
      s.on('error', () => {})
      opened.push(s)
      await once(s, 'connect')
      return s
    }
    try {
      for (let i = 0; i < 128; i++) await open() // silent: each counts as being set up
      const firstLine = async (s: Socket): Promise<string> => {
        let got = ''
        s.setEncoding('utf8')
        s.on('data', (c: string) => { got += c })
        await waitFor('a line or the end', () => got.includes('\n') || s.readableEnded, 10_000, 5)
        return got
      }
      // told busy, and kept open by us meanwhile (the daemon closes them 2 s after its answer)
      const busy = await Promise.all(Array.from({ length: 128 }, async () => await firstLine(await open())))
      assert.ok(busy.every(l => reply(l).code === 'APP_PORT_BUSY'), busy.find(l => reply(l).code !== 'APP_PORT_BUSY'))
      const past = await open()
      past.resume()
      await waitFor('the daemon closing it', () => past.readableEnded, 10_000, 5)
      assert.equal(past.bytesRead, 0, 'closed without an answer')
    } finally {
      for (const s of opened) s.destroy()
    }
    // and the port serves again
    assert.equal(reply(await exchange(port, '{"v":1,"token":"wrong","op":"listen","service":"x"}\n')).code, 'UNAUTHORIZED')
  })

  test('a service name already offered is refused, never taken over', async () => {
    const listen = (service: string): string => JSON.stringify({ v: 1, token, op: 'listen', service }) + '\n'
    // the chat app (started with the daemon) keeps "chat"
    const chat = reply(await exchange(port, listen('chat')))
    assert.equal(chat.code, 'SERVICE_TAKEN')
    assert.match(chat.message, /the service "chat" is already offered here, by an app in the daemon/)
    const exposed = await runCli(home, ['expose', 'chat', '127.0.0.1:9'])
    assert.equal(exposed.code, 1)
    assert.match(exposed.stderr, /already offered here, by an app in the daemon/)

    // a program's listener is not taken over by another program, nor by an expose
    const holder: Socket = connect(port, '127.0.0.1')
    holder.setEncoding('utf8')
    await once(holder, 'connect')
    holder.write(listen('mine'))
    const [first] = await once(holder, 'data') as [string]
    assert.equal(reply(first).ok, true)
    const second = reply(await exchange(port, listen('mine')))
    assert.equal(second.code, 'SERVICE_TAKEN')
    assert.match(second.message, /by a program on this machine/)
    assert.match((await runCli(home, ['expose', 'mine', '127.0.0.1:9'])).stderr, /already offered here/)
    holder.end()
    await once(holder, 'close')

    // an expose replaces an expose of the same name; a name that is not one is a usage error
    assert.equal((await runCli(home, ['expose', 'mine', '127.0.0.1:9'])).code, 0, 'free again once the program closed')
    const replaced = await runCli(home, ['expose', 'mine', '127.0.0.1:10'])
    assert.equal(replaced.code, 0, replaced.stderr)
    assert.equal(replaced.stdout, 'exposing mine -> 127.0.0.1:10\n')
    assert.match((await exchange(port, listen('mine'))), /by an expose \(`cspace expose mine --remove`/)
    const badName = reply(await exchange(port, listen('Not A Name')))
    assert.equal(badName.code, 'INVALID_SERVICE_NAME')
    assert.equal(badName.usage, true)
  })

  test('a saved expose keeps its name over an app, which says by name that it did not start', async () => {
    const p = await makeProfile('saved-chat')
    const bare = await startDaemon(p.home, ['--no-apps'])
    assert.equal((await runCli(p.home, ['expose', 'chat', '127.0.0.1:9'])).code, 0)
    await bare.stop()
    const full = await startDaemon(p.home)
    assert.match(full.stderr(), /^cspace: the chat app did not start: the service "chat" is already offered here, by an expose/m)
    await full.stop()
  })
})
