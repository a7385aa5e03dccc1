import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listen } from '../../src/sdk/index.js'
import { removeTempDirs, tempDir } from '../helpers/files.js'
import { waitFor } from '../helpers/wait.js'

/**
 * listen()'s control connection read from a stand-in application port: the
 * daemon's side is written here, so bursts and broken lines can be sent at will.
 */
async function fakeAppPort (onListen: (socket: Socket) => void): Promise<{ home: string, server: Server, accepts: string[], connections: () => number }> {
  const accepts: string[] = []
  let connections = 0
  const server = createServer((s) => {
    connections++
    s.on('error', () => {})
    s.once('data', (b: Buffer) => {
      const req = JSON.parse(b.toString().split('\n')[0]) as { op: string, id?: string }
      if (req.op === 'accept') { accepts.push(String(req.id)); s.end('{"v":1,"ok":false,"code":"GONE","message":"the caller left"}\n'); return }
      s.write('{"v":1,"ok":true}\n')
      onListen(s)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const home = tempDir('cspace-sdk-listen-')
  writeFileSync(join(home, 'daemon.json'), JSON.stringify({ v: 1, pid: process.pid, apiPort: port, appPort: port, peerId: 'x', startedAt: 0 }))
  writeFileSync(join(home, 'api-token'), 'token\n', { mode: 0o600 })
  return { home, server, accepts, connections: () => connections }
}

const caller = { peerId: '12D3KooW' + 'x'.repeat(44), userId: 'cs1' + 'a'.repeat(900), fingerprint: '1'.repeat(35) }
const incoming = (i: number): string => JSON.stringify({ v: 1, event: 'incoming', id: `id${i}`, service: 'svc', caller }) + '\n'

after(() => { removeTempDirs() })

test('a burst of incoming events larger than one line\'s limit is all taken; the registration stays', async () => {
  const burst = Array.from({ length: 400 }, (_, i) => incoming(i)).join('')
  assert.ok(burst.length > 256 * 1024, 'the burst is several times the line limit')
  let control: Socket | undefined
  const { home, server, accepts } = await fakeAppPort((s) => { control = s; s.write(burst) })
  const l = await listen('svc', () => {}, { home })
  try {
    let closed = false
    void l.closed.then(() => { closed = true })
    await waitFor('an accept for every incoming event', () => accepts.length === 400, 20_000, 50)
    // one more event after the burst is still taken: the registration outlived it
    control?.write(incoming(400))
    await waitFor('the accept after the burst', () => accepts.length === 401, 20_000, 50)
    assert.equal(closed, false)
  } finally {
    l.close()
    server.close()
  }
})

test('a line longer than the limit ends the registration', async () => {
  const { home, server } = await fakeAppPort((s) => { s.write('{"v":1,"event":"incoming","id":"' + 'x'.repeat(100 * 1024)) })
  try {
    const l = await listen('svc', () => {}, { home })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([l.closed, new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('the registration stayed open')), 10_000) })])
    clearTimeout(timer)
  } finally {
    server.close()
  }
})

test('lines that are not incoming events of the right shape are passed over; the next good one is taken', async () => {
  const bad = ['null', '42', '"incoming"', '[]', '{"v":1,"event":"incoming","id":"a","service":"svc"}',
    '{"v":1,"event":"incoming","id":"b","service":"svc","caller":null}',
    '{"v":1,"event":"incoming","id":"c","service":"svc","caller":{"peerId":1,"userId":"u","fingerprint":"f"}}',
    '{"v":2,"event":"incoming","id":"d","service":"svc","caller":' + JSON.stringify(caller) + '}',
    '{"v":1,"event":"incoming","id":' + '['.repeat(10_000) + ']'.repeat(10_000) + ',"service":"svc","caller":' + JSON.stringify(caller) + '}']
  // bad lines on both sides of a good one, and a last good one: an accept for a bad line is asked before the last
  const { home, server, accepts, connections } = await fakeAppPort((s) => { s.write(bad.join('\n') + '\n' + incoming(1) + bad.join('\n') + '\n' + incoming(2)) })
  const l = await listen('svc', () => {}, { home })
  try {
    // the stand-in daemon refuses every accept: the accepts say which lines were taken
    await waitFor('both good events accepted', () => accepts.includes('id1') && accepts.includes('id2'), 10_000, 20)
    assert.deepEqual([...accepts].sort(), ['id1', 'id2'])
    // one line handler opens the accepts in order, and the server takes connections in that order:
    // an accept for a bad line would have connected before id2's, which has been read
    assert.equal(connections(), 3, 'the control connection and two accepts')
  } finally {
    l.close()
    server.close()
  }
})
