import { performance } from 'node:perf_hooks'
import { createConnection, createServer } from 'node:net'
import { once } from 'node:events'
import { ControlClient } from '../../src/apps/host/index.js'
import type { ChatEvent, NamedMessage } from '../../src/apps/chat/index.js'
import { summarize, type Summary } from '../stats.js'
import type { Topology } from '../topology.js'

export interface ChatResult {
  /** Send → acknowledged by the recipient's store, ms: cspace chat vs a line echoed over a kept-open raw TCP connection. */
  deliveryMs: Record<string, Summary>
  /** A burst of messages queued at once, until the last is acknowledged. */
  burst: { messages: number, perSecond: number }
}

/** A line-echo server and a client on one kept-open connection: the floor for a request and its answer. */
async function rawTcpRoundTrips (samples: number): Promise<number[]> {
  const server = createServer((s) => s.pipe(s))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const sock = createConnection((server.address() as { port: number }).port, '127.0.0.1')
  await once(sock, 'connect')
  sock.setNoDelay(true)
  const out: number[] = []
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now()
    sock.write(`message ${i}\n`)
    await once(sock, 'data')
    out.push(performance.now() - t0)
  }
  sock.destroy()
  server.close()
  return out
}

/**
 * The chat app's cost: how long a message takes from `send` to the
 * recipient's acknowledgement (it is committed to SQLite on both sides
 * first), and how many per second a burst delivers.
 */
export async function measureChat (topo: Topology, opts: { samples: number, burst: number }): Promise<ChatResult> {
  const client = await ControlClient.open('chat', topo.alice.home)
  try {
    // the first message opens the chat connection; what a conversation feels like is the warm case
    await client.request<NamedMessage>('send', { to: 'bob', text: 'warm-up', waitMs: 60_000 })
    const cspace: number[] = []
    for (let i = 0; i < opts.samples; i++) {
      const t0 = performance.now()
      const { message } = await client.request<NamedMessage>('send', { to: 'bob', text: `message ${i}`, waitMs: 60_000 })
      if (message.state !== 'delivered') throw new Error(`bench chat: message ${i} ended ${message.state}`)
      cspace.push(performance.now() - t0)
    }
    const raw = await rawTcpRoundTrips(opts.samples)

    // an event can be read in the same chunk as the reply to its `send`, before the
    // caller has seen that reply: collect every delivered id, and compare at the end
    const sent = new Set<string>()
    const delivered = new Set<string>()
    let finished = false
    let allDone: () => void = () => {}
    const done = new Promise<void>((resolve) => { allDone = resolve })
    const check = (): void => {
      if (!finished && sent.size === opts.burst && [...sent].every(id => delivered.has(id))) { finished = true; allDone() }
    }
    client.onEvent((event, data) => {
      if (event === 'delivered') { delivered.add((data as ChatEvent).message.id); check() }
    })
    await client.request('subscribe')
    const t0 = performance.now()
    for (let i = 0; i < opts.burst; i++) sent.add((await client.request<NamedMessage>('send', { to: 'bob', text: `burst ${i}` })).message.id)
    check()
    await done
    const seconds = (performance.now() - t0) / 1000
    return { deliveryMs: { 'raw TCP': summarize(raw), 'cspace chat': summarize(cspace) }, burst: { messages: opts.burst, perSecond: opts.burst / seconds } }
  } finally {
    client.close()
  }
}
