import { setTimeout as sleep } from 'node:timers/promises'
import type { AbortOptions, PeerInfo, PeerRouting } from '@libp2p/interface'
import type { RandomWalk } from '@libp2p/interface-internal'
import { componentLogger } from '../util/log.js'

const log = componentLogger('network:random-walk')

/** The pause after a walk's first query; doubled after each one, up to MAX_PAUSE_MS. */
export const FIRST_PAUSE_MS = 2_000
export const MAX_PAUSE_MS = 60_000

/**
 * The random walk circuit-relay's discovery runs while this node holds fewer
 * relay slots than it wants. libp2p's runs its DHT queries back to back for
 * as long as that lasts, which with one router alive and two slots wanted
 * is for good: each side burned 50–65% of a core while idle (measured, one
 * router; the same with one of two killed). This one pauses between
 * queries, 2 s doubling to a minute, and starts afresh with each walk (a
 * slot lost starts one). Only circuit-relay's discovery walks.
 */
export class PacedRandomWalk implements RandomWalk {
  private readonly components: { peerRouting: PeerRouting }
  private readonly firstPauseMs: number
  private readonly maxPauseMs: number
  private readonly pause: (ms: number, signal: AbortSignal) => Promise<boolean>

  constructor (components: { peerRouting: PeerRouting }, init: { firstPauseMs?: number, maxPauseMs?: number, pause?: (ms: number, signal: AbortSignal) => Promise<boolean> } = {}) {
    this.components = components
    this.firstPauseMs = init.firstPauseMs ?? FIRST_PAUSE_MS
    this.maxPauseMs = init.maxPauseMs ?? MAX_PAUSE_MS
    this.pause = init.pause ?? pausedFor
  }

  async * walk (options: AbortOptions = {}): AsyncGenerator<PeerInfo> {
    const signal = options.signal ?? new AbortController().signal
    let pause = this.firstPauseMs
    while (!signal.aborted) {
      let found = 0
      try {
        for await (const peer of this.components.peerRouting.getClosestPeers(crypto.getRandomValues(new Uint8Array(32)), { signal })) {
          found++
          yield peer
        }
      } catch (err) {
        if (signal.aborted) return
        log('walk query failed: %e', err)
      }
      log('walk query found %d peer(s); next in %d ms', found, pause)
      if (!await this.pause(pause, signal)) return
      pause = Math.min(this.maxPauseMs, pause * 2)
    }
  }
}

/** Waits ms; false if the signal aborted first. */
async function pausedFor (ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal })
    return true
  } catch {
    return false
  }
}

/** libp2p's components as circuit-relay's transport sees them, with this walk in place of libp2p's. */
export function withPacedRandomWalk<T extends { randomWalk: RandomWalk }> (components: T): T {
  // libp2p's components hold peerRouting, though circuit-relay's type does not name it
  const walk = new PacedRandomWalk({ get peerRouting () { return Reflect.get(components, 'peerRouting') as PeerRouting } })
  // read through: libp2p adds components after the transports are made
  return new Proxy(components, { get: (target, prop) => prop === 'randomWalk' ? walk : Reflect.get(target, prop) })
}
