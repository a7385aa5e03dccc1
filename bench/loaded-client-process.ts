/**
 * The client of the loaded-link and busy-tunnels suites, run where the
 * sending user's ports are (inside its network namespace for the first):
 *
 *   node loaded-client-process.js ECHO-PORT SINK-PORT SAMPLES SETTLE-MS [UPLOADS [COUNT-PORT]]
 *
 * Takes SAMPLES connect + 1-byte round trips to ECHO-PORT on an idle link, then
 * starts UPLOADS (default 1) bulk uploads to SINK-PORT, each a connection of
 * its own writing as fast as the tunnel takes it, waits SETTLE-MS for the
 * queues on the way to fill, takes SAMPLES more, and stops the uploads.
 * The uploads' rate is what the sink received meanwhile if COUNT-PORT (the
 * sink's, bench/sink-process.ts) is given, else what the uploading sockets
 * took: over a few seconds, buffers on the way (an ssh client's channels
 * hold megabytes each) can make that twice what arrived.
 * Before it exits it waits (up to 30 s) until a round trip is back near the
 * idle one, so the next path starts on an empty link. Prints one JSON line:
 * { idleMs, busyMs, uploadMbit, uploadsCut, failed } — uploadsCut: uploads
 * whose connection was closed before they were stopped; failed: round trips
 * that did not come back (not in the samples).
 */
import { connect } from 'node:net'
import { once } from 'node:events'
import { roundTrip } from './suites/latency.js'

/** Between samples: a person's keystrokes, not a load of their own. */
const SAMPLE_INTERVAL_MS = 100
const DRAIN_DEADLINE_MS = 30_000

const [echoPort, sinkPort, samples, settleMs, uploads = 1, countPort] = process.argv.slice(2).map(Number)
if (![echoPort, sinkPort, samples, uploads].every(n => Number.isInteger(n) && n > 0) || !(settleMs >= 0) || !(countPort == null || countPort > 0)) {
  process.stderr.write('usage: loaded-client-process.js ECHO-PORT SINK-PORT SAMPLES SETTLE-MS [UPLOADS [COUNT-PORT]]\n')
  process.exit(2)
}

const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]

/** Round trips that failed (refused, reset or timed out); the samples are those that came back. */
let failed = 0

async function sample (n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    try { out.push(await roundTrip(echoPort)) } catch { failed++ }
    await pause(SAMPLE_INTERVAL_MS)
  }
  return out
}

const chunk = Buffer.alloc(64 * 1024)
/** Uploads closed before they were stopped. */
let uploadsCut = 0

/** An upload of zeros as fast as the socket drains; `sent()` counts what the socket took. */
function startUpload (): { sent: () => number, stop: () => void } {
  const socket = connect(sinkPort, '127.0.0.1')
  let sent = 0
  let stopped = false
  socket.on('error', () => {})
  socket.on('close', () => { if (!stopped) uploadsCut++ })
  const fill = (): void => {
    while (!stopped && !socket.destroyed && socket.write(chunk)) sent += chunk.length
    if (!stopped) sent += chunk.length // the write that filled the buffer was taken too
  }
  socket.on('connect', fill)
  socket.on('drain', fill)
  return { sent: () => sent - socket.writableLength, stop: () => { stopped = true; socket.destroy() } }
}

/** The bytes the sink has received so far (bench/sink-process.ts). */
async function received (): Promise<number> {
  const socket = connect(countPort, '127.0.0.1')
  let text = ''
  socket.on('data', (b: Buffer) => { text += b.toString() })
  await once(socket, 'end')
  return Number(text)
}

/** What the uploads have delivered: counted by the sink if it can be asked, else what their sockets took. */
async function delivered (): Promise<number> {
  return countPort != null ? await received() : running.reduce((sum, u) => sum + u.sent(), 0)
}

for (let i = 0; i < 5; i++) await roundTrip(echoPort) // warm: a first connect is not what is measured
const idleMs = await sample(samples)
const running = Array.from({ length: uploads }, startUpload)
await pause(settleMs)
const from = { bytes: await delivered(), at: performance.now() }
const busyMs = await sample(samples)
const uploadMbit = (await delivered() - from.bytes) * 8 / 1e6 / ((performance.now() - from.at) / 1000)
for (const u of running) u.stop()
const deadline = Date.now() + DRAIN_DEADLINE_MS
while (Date.now() < deadline && await roundTrip(echoPort).catch(() => Infinity) > 3 * median(idleMs) + 5) await pause(SAMPLE_INTERVAL_MS)
process.stdout.write(JSON.stringify({ idleMs, busyMs, uploadMbit, uploadsCut, failed }) + '\n')
process.exit(0)
