import { multiaddr } from '@multiformats/multiaddr'
import type { NetworkNode } from './node.js'
import { componentLogger } from '../util/log.js'

const log = componentLogger('network:bootstrap')

/** libp2p's bootstrap discovery dials after 1 s; this looks a few seconds later. */
const FIRST_CHECK_MS = 5000
const MAX_RETRY_MS = 60_000
const DIAL_TIMEOUT_MS = 10_000

export interface BootstrapKeeper {
  /** Why the node is alone, while it has no connection and its bootstrap peers did not answer; undefined otherwise. */
  readonly isolated: string | undefined
  stop: () => void
}

/**
 * Keeps a node joined to the network through its bootstrap peers. libp2p's
 * bootstrap discovery dials them once, at start: a node that reached none of
 * them then (the network not up yet, the router restarting) stayed alone for
 * good, with no DHT, no presence, and every contact "offline". Whenever the
 * node has no connection at all, this dials the bootstrap addresses again,
 * with backoff (5 s doubling to a minute). `onIsolated` is told once per
 * spell alone, after a round of dials has failed.
 */
export function keepJoined (node: NetworkNode, bootstrap: string[], onIsolated: (why: string) => void): BootstrapKeeper {
  let isolated: string | undefined
  let delay = FIRST_CHECK_MS
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let dialling = false

  const schedule = (ms: number): void => {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(() => { void check() }, ms)
    timer.unref()
  }
  const joined = (): void => {
    if (isolated != null) log('joined again')
    isolated = undefined
    delay = FIRST_CHECK_MS
  }
  const check = async (): Promise<void> => {
    if (stopped || dialling) return
    if (node.getConnections().length > 0) { joined(); return }
    dialling = true
    try {
      const results = await Promise.allSettled(bootstrap.map(async (a) => await node.dial(multiaddr(a), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })))
      if (stopped) return
      if (results.some(r => r.status === 'fulfilled') || node.getConnections().length > 0) { joined(); return }
      const why = (results.find(r => r.status === 'rejected') as PromiseRejectedResult | undefined)?.reason?.message ?? 'no answer'
      log('no bootstrap peer answered (%s); again in %d ms', why, delay)
      if (isolated == null) {
        isolated = `none of the ${bootstrap.length} bootstrap address(es) answered (${String(why).slice(0, 200)})`
        onIsolated(isolated)
      }
      schedule(delay)
      delay = Math.min(MAX_RETRY_MS, delay * 2)
    } finally {
      dialling = false
    }
  }
  // at the current backoff: a link that keeps dropping is not redialled every 5 s
  const onDisconnect = (): void => {
    if (node.getConnections().length === 0) schedule(delay)
  }
  if (bootstrap.length > 0) {
    node.addEventListener('peer:disconnect', onDisconnect)
    schedule(FIRST_CHECK_MS)
  }
  return {
    // a connection made meanwhile (by us or to us) ends it before the next check notices
    get isolated () { return node.getConnections().length > 0 ? undefined : isolated },
    stop: () => {
      stopped = true
      clearTimeout(timer)
      node.removeEventListener('peer:disconnect', onDisconnect)
    }
  }
}
