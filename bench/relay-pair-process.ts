/**
 * One side of the bench's Node relay pair (relay-pair.ts), in its own process:
 *
 *   node relay-pair-process.js service LISTEN-PORT TARGET-PORT
 *   node relay-pair-process.js app LISTEN-PORT SERVICE-PORT CONNECTIONS
 *
 * The service side accepts TLS and, for each connection, dials the target on
 * its first application byte. The app side opens CONNECTIONS TLS connections
 * up front, each warmed by one byte each way (both processes have read and
 * written on it, as on cspace's open connection and spare stream), and then
 * listens: every accepted socket is piped to one of them. Prints "ready";
 * exits when its stdin ends.
 */
import net from 'node:net'
import tls from 'node:tls'
import { once } from 'node:events'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TlsIdentity } from '../src/network/native-tls.js'

// target: the service's port (service side) or the service side's (app side)
const [role, listen, target, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 0)]
if ((role !== 'service' && role !== 'app') || !(listen > 0) || !(target > 0)) {
  process.stderr.write('usage: relay-pair-process.js service|app LISTEN-PORT TARGET-PORT [CONNECTIONS]\n')
  process.exit(2)
}
// cspace's own certificate and TLS 1.3 settings; only the server's
// certificate is sent and there is no ALPN, which no warm sample sees
const secureContext = await new TlsIdentity(await generateKeyPair('Ed25519')).secureContext()

function pipeBoth (a: net.Socket, b: net.Socket): void {
  a.pipe(b)
  b.pipe(a)
  a.on('error', () => b.destroy())
  b.on('error', () => a.destroy())
}

let server: net.Server
if (role === 'service') {
  // as native-tls.ts does: tls.Server would make its own context from key and cert options
  server = net.createServer((raw) => {
    raw.setNoDelay(true)
    const secured = new tls.TLSSocket(raw, { isServer: true, secureContext })
    secured.once('data', () => {
      secured.write('k')
      secured.once('data', (first: Buffer) => {
        secured.pause() // nothing read while the service connects; pipe resumes it
        const out = net.connect(target, '127.0.0.1', () => { out.write(first); pipeBoth(secured, out) })
        out.setNoDelay(true)
        out.on('error', () => secured.destroy())
      })
    })
    secured.on('error', () => {})
  })
} else {
  const pool: tls.TLSSocket[] = []
  for (let i = 0; i < count; i++) {
    const secured = tls.connect({ port: target, host: '127.0.0.1', secureContext, rejectUnauthorized: false })
    secured.setNoDelay(true)
    secured.on('error', () => {}) // an idle one reset: its sample fails, not the process
    await once(secured, 'secureConnect')
    secured.write('w')
    await once(secured, 'data')
    pool.push(secured)
  }
  server = net.createServer((app) => {
    app.setNoDelay(true)
    const secured = pool.shift()
    if (secured == null) { app.destroy(); return }
    pipeBoth(app, secured)
  })
}
server.listen(listen, '127.0.0.1')
await once(server, 'listening')
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
