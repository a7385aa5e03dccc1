import { describe, before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { dirname } from 'node:path'
import { createServer, type Server } from 'node:net'
import { cleanupAll, makeProfile, runCli, startDaemon } from '../../helpers/cli.js'
import { freePort } from '../../helpers/sshd.js'
import { findOnPath } from '../../../src/util/find-on-path.js'

/** One line on stderr, nothing on stdout, and the given exit code. */
function assertOneLineError (r: { code: number, stdout: string, stderr: string }, code: number, re: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`)
  assert.match(r.stderr, re)
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`)
  assert.equal(r.stdout, '')
}

/** Bad input to `cspace desktop`: a clear one-line error, the right exit code, and the daemon keeps running. */
describe('desktop: bad command-line input', () => {
  let home: string
  let notRfb: Server

  before(async () => {
    home = (await makeProfile('alice')).home
    await startDaemon(home)
    // something that accepts TCP connections but is no VNC server
    notRfb = createServer((s) => { s.on('error', () => {}); s.end('HTTP/1.1 400 Bad Request\r\n\r\n') })
    notRfb.listen(0, '127.0.0.1')
    await once(notRfb, 'listening')
  })

  after(async () => {
    notRfb.close()
    await cleanupAll()
  })

  test('view: an unknown contact is a usage error', async () => {
    assertOneLineError(await runCli(home, ['desktop', 'view', 'nobody', '--no-viewer']), 2, /^cspace: no contact named "nobody"; see `cspace contacts list`/)
  })

  test('view: --port must be a port number', async () => {
    for (const port of ['abc', '-1', '70000', '5900x', '']) {
      assertOneLineError(await runCli(home, ['desktop', 'view', 'bob', '--no-viewer', '--port', port]), 2, /is not a port number \(0-65535; 0 picks a free port\)/)
    }
  })

  test('view: a port already in use', async () => {
    const busy = createServer().listen(0, '127.0.0.1')
    await once(busy, 'listening')
    const port = (busy.address() as { port: number }).port
    // an unknown contact is reported before the port is even tried, so use a user ID (not alice's own: that is refused too)
    const userId = (await makeProfile('stranger')).userId
    const r = await runCli(home, ['desktop', 'view', userId, '--no-viewer', '--port', String(port)])
    busy.close()
    assertOneLineError(r, 2, new RegExp(`local port ${port} is already in use; pick another with --port`))
  })

  test('share: --vnc must be HOST:PORT', async () => {
    for (const bad of ['nonsense', '127.0.0.1', ':5900', '127.0.0.1:0', '127.0.0.1:99999', '127.0.0.1:59a', 'a b:1', '[::1]5900']) {
      assertOneLineError(await runCli(home, ['desktop', 'share', '--vnc', bad]), 2, /is not HOST:PORT \(e\.g\. 127\.0\.0\.1:5900\)/)
    }
    assertOneLineError(await runCli(home, ['desktop', 'share', '--vnc', '127.0.0.1:5900', '--start']), 2, /either --vnc HOST:PORT or --start/)
  })

  test('share: nothing listening, or not a VNC server, at --vnc', async () => {
    const port = await freePort()
    assertOneLineError(await runCli(home, ['desktop', 'share', '--vnc', `127.0.0.1:${port}`]), 1, new RegExp(`no VNC server at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); start one`))
    const notVnc = (notRfb.address() as { port: number }).port
    assertOneLineError(await runCli(home, ['desktop', 'share', '--vnc', `127.0.0.1:${notVnc}`]), 1, /answered, but not with an RFB greeting/)
  })

  test('share --start: no DISPLAY, or no x11vnc', async () => {
    const noDisplay = await runCli(home, ['desktop', 'share', '--start'], { env: { DISPLAY: '' } })
    assertOneLineError(noDisplay, 1, /DISPLAY is not set/)
    // a PATH with node but without x11vnc
    const noX11vnc = await runCli(home, ['desktop', 'share', '--start'], { env: { DISPLAY: ':99', PATH: dirname(process.execPath) } })
    assertOneLineError(noX11vnc, 1, /x11vnc is not installed.*apt install x11vnc/)
  })

  test('share --start on a display with no X server (:287, past the test Xvfbs\' :90–:189): x11vnc\'s own reason, not the link that ends its tips', { skip: findOnPath('x11vnc') == null ? 'x11vnc is not installed' : false }, async () => {
    const r = await runCli(home, ['desktop', 'share', '--start'], { env: { DISPLAY: ':287' } })
    assertOneLineError(r, 1, /x11vnc did not start: it exited with code 1 on display :287: x11vnc was unable to open the X DISPLAY: ":287"/)
  })

  test('without a daemon: says how to start one', async () => {
    const other = (await makeProfile('nodaemon')).home
    assertOneLineError(await runCli(other, ['desktop', 'view', 'bob', '--no-viewer']), 1, /no daemon is running .*`cspace daemon`/)
  })

  test('missing NAME, unknown options: usage errors', async () => {
    const noName = await runCli(home, ['desktop', 'view'])
    assert.equal(noName.code, 2)
    assert.match(noName.stderr, /missing required argument 'user'/)
    const bogus = await runCli(home, ['desktop', 'share', '--bogus'])
    assert.equal(bogus.code, 2)
    assert.match(bogus.stderr, /unknown option '--bogus'/)
  })

  test('the daemon kept running through all of it', async () => {
    assert.equal((await runCli(home, ['status'])).code, 0)
  })
})
