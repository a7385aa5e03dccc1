import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { once } from 'node:events'
import { cleanupAll, makeProfile, startDaemon, type Profile } from '../../helpers/cli.js'
import { waitFor } from '../../helpers/wait.js'
import { ControlClient } from '../../../src/apps/host/index.js'
import type { SharingView } from '../../../src/apps/desktop/index.js'

/** The desktop app's background part (the web UI's sharing controls), asked wrong things on its control socket. */
describe('the desktop host: sharing on request, bad requests refused', () => {
  let alice: Profile
  let client: ControlClient

  before(async () => {
    alice = await makeProfile('alice')
    await startDaemon(alice.home)
    client = await waitFor('the desktop host', async () => await ControlClient.open('desktop', alice.home).catch(() => undefined), 20_000, 100)
  })
  after(async () => {
    client?.close()
    await cleanupAll()
  })

  test('a bad address, a closed port and a server that is not VNC are each refused with the reason; nothing is shared', async () => {
    await assert.rejects(client.request('share', {}), /"vnc" must be/)
    await assert.rejects(client.request('share', { vnc: 'not an address' }), (err: Error & { exitCode?: number }) => err.exitCode === 2)
    const closed = createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const closedPort = (closed.address() as { port: number }).port
    closed.close()
    await assert.rejects(client.request('share', { vnc: `127.0.0.1:${closedPort}` }), /ECONNREFUSED|refused/)
    // something answers, but not with "RFB 003.008\n"
    const http: Server = createServer((s) => { s.end('HTTP/1.1 400 Bad Request\r\n\r\n') }).listen(0, '127.0.0.1')
    await once(http, 'listening')
    await assert.rejects(client.request('share', { vnc: `127.0.0.1:${(http.address() as { port: number }).port}` }), /not with an RFB greeting/)
    http.close()
    const status = await client.request<SharingView>('status')
    assert.equal(status.sharing, false)
    assert.equal((await client.request<SharingView>('stop')).sharing, false, 'stop when not sharing is harmless')
  })

  test('sharing, then a second share is refused until stopped', async () => {
    // a minimal RFB greeting is all the probe needs
    const fake = createServer((s) => { s.write('RFB 003.008\n'); s.on('error', () => {}) }).listen(0, '127.0.0.1')
    await once(fake, 'listening')
    const vnc = `127.0.0.1:${(fake.address() as { port: number }).port}`
    const shared = await client.request<SharingView>('share', { vnc })
    assert.equal(shared.sharing, true)
    assert.equal(shared.vnc, vnc)
    assert.equal(shared.allowControl, false)
    await assert.rejects(client.request('share', { vnc }), /already sharing/)
    assert.equal((await client.request<SharingView>('stop')).sharing, false)
    assert.equal((await client.request<SharingView>('share', { vnc, allowControl: true })).allowControl, true)
    await client.request('stop')
    fake.close()
  })
})
