/**
 * The busy-tunnels suite's sink, in a process of its own, as a real service is:
 *
 *   node sink-process.js LISTEN-PORT COUNT-PORT
 *
 * Reads every connection's bytes on LISTEN-PORT and drops them. A connection
 * to COUNT-PORT is answered with the bytes received so far (a decimal line):
 * what arrived, not what the senders handed to buffers on the way. Prints
 * "ready"; exits when its stdin ends.
 */
import { createServer } from 'node:net'
import { once } from 'node:events'

const [port, countPort] = process.argv.slice(2).map(Number)
if (!(port > 0) || !(countPort > 0)) {
  process.stderr.write('usage: sink-process.js LISTEN-PORT COUNT-PORT\n')
  process.exit(2)
}
let received = 0
const sink = createServer((s) => { s.on('error', () => {}); s.on('data', (b: Buffer) => { received += b.length }) })
const count = createServer((s) => { s.on('error', () => {}); s.end(`${received}\n`) })
sink.listen(port, '127.0.0.1')
count.listen(countPort, '127.0.0.1')
await Promise.all([once(sink, 'listening'), once(count, 'listening')])
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => { sink.close(); count.close(); process.exit(0) })
