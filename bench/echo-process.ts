/**
 * The latency suite's service, in a process of its own, as a real service is:
 *
 *   node echo-process.js LISTEN-PORT
 *
 * Echoes every connection's bytes back (half-close kept). With the echo inside
 * the bench's own process, the direct round trip never woke a second process
 * while every tunnelled one did, which made "added to direct" larger than
 * what a user sees (docs/BENCHMARKS.md, "Warm connect: the service in its own
 * process"). Prints "ready"; exits when its stdin ends.
 */
import { createServer } from 'node:net'
import { once } from 'node:events'

const port = Number(process.argv[2])
if (!(port > 0)) {
  process.stderr.write('usage: echo-process.js LISTEN-PORT\n')
  process.exit(2)
}
const server = createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => {}); s.pipe(s) })
server.listen(port, '127.0.0.1')
await once(server, 'listening')
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => { server.close(); process.exit(0) })
