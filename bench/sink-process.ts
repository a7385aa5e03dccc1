/**
 * The busy-tunnels suite's sink, in a process of its own, as a real service is:
 *
 *   node sink-process.js LISTEN-PORT
 *
 * Reads every connection's bytes and drops them. Prints "ready"; exits when
 * its stdin ends.
 */
import { createServer } from 'node:net'
import { once } from 'node:events'

const port = Number(process.argv[2])
if (!(port > 0)) {
  process.stderr.write('usage: sink-process.js LISTEN-PORT\n')
  process.exit(2)
}
const server = createServer((s) => { s.on('error', () => {}); s.resume() })
server.listen(port, '127.0.0.1')
await once(server, 'listening')
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => { server.close(); process.exit(0) })
