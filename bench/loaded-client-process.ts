/**
 * The client of the loaded-link suite, run inside the sending user's network
 * namespace (its ports are there):
 *
 *   node loaded-client-process.js ECHO-PORT SINK-PORT SAMPLES SETTLE-MS
 *
 * Takes SAMPLES connect + 1-byte round trips to ECHO-PORT on an idle link, then
 * starts a bulk upload to SINK-PORT (writing as fast as the tunnel takes it),
 * waits SETTLE-MS for the queues on the way to fill, takes SAMPLES more, and
 * stops the upload. Before it exits it waits (up to 30 s) until a round trip
 * is back near the idle one, so the next path starts on an empty link.
 * Prints one JSON line: { idleMs, busyMs, uploadMbit }.
 */
import { connect } from 'node:net'
import { roundTrip } from './suites/latency.js'

/** Between samples: a person's keystrokes, not a load of their own. */
const SAMPLE_INTERVAL_MS = 100
const DRAIN_DEADLINE_MS = 30_000

const [echoPort, sinkPort, samples, settleMs] = process.argv.slice(2).map(Number)
if (![echoPort, sinkPort, samples].every(n => Number.isInteger(n) && n > 0) || !(settleMs >= 0)) {
  process.stderr.write('usage: loaded-client-process.js ECHO-PORT SINK-PORT SAMPLES SETTLE-MS\n')
  process.exit(2)
}

const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]

async function sample (n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    out.push(await roundTrip(echoPort))
    await pause(SAMPLE_INTERVAL_MS)
  }
  return out
}

/** An upload of zeros as fast as the socket drains; `sent()` counts what the socket took. */
function startUpload (): { sent: () => number, stop: () => void } {
  const chunk = Buffer.alloc(64 * 1024)
  const socket = connect(sinkPort, '127.0.0.1')
  let sent = 0
  let stopped = false
  socket.on('error', (err) => {
    if (stopped) return
    process.stderr.write(`loaded-client: the upload failed: ${err.message}\n`)
    process.exit(1)
  })
  const fill = (): void => {
    while (!stopped && socket.write(chunk)) sent += chunk.length
    if (!stopped) sent += chunk.length // the write that filled the buffer was taken too
  }
  socket.on('connect', fill)
  socket.on('drain', fill)
  return { sent: () => sent - socket.writableLength, stop: () => { stopped = true; socket.destroy() } }
}

for (let i = 0; i < 5; i++) await roundTrip(echoPort) // warm: a first connect is not what is measured
const idleMs = await sample(samples)
const upload = startUpload()
await pause(settleMs)
const from = { bytes: upload.sent(), at: performance.now() }
const busyMs = await sample(samples)
const uploadMbit = (upload.sent() - from.bytes) * 8 / 1e6 / ((performance.now() - from.at) / 1000)
upload.stop()
const deadline = Date.now() + DRAIN_DEADLINE_MS
while (Date.now() < deadline && await roundTrip(echoPort) > 3 * median(idleMs) + 5) await pause(SAMPLE_INTERVAL_MS)
process.stdout.write(JSON.stringify({ idleMs, busyMs, uploadMbit }) + '\n')
process.exit(0)
