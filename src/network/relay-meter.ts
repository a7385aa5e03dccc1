import type { Metrics, MultiaddrConnection, Stream } from '@libp2p/interface'
import { RELAY_V2_HOP_CODEC, RELAY_V2_STOP_CODEC } from '@libp2p/circuit-relay-v2'

/**
 * Counts the bytes a router forwards for relayed connections: what it sends
 * on relay streams (HOP towards the caller, STOP towards the callee), i.e.
 * the relayed traffic in both directions plus a few bytes of relay
 * handshake. It plugs into libp2p as its metrics sink, the one hook that
 * sees every protocol stream, and counts by wrapping `send` — never by
 * listening for 'message', which would take bytes before the relay's own
 * reader is attached. Every other metric libp2p registers is a no-op.
 */
export class RelayMeter implements Metrics {
  /** Bytes forwarded since start. */
  relayedBytes = 0

  trackProtocolStream (stream: Stream): void {
    if (stream.protocol !== RELAY_V2_HOP_CODEC && stream.protocol !== RELAY_V2_STOP_CODEC) return
    const send = stream.send.bind(stream)
    stream.send = (data) => {
      this.relayedBytes += data.byteLength
      return send(data)
    }
  }

  trackMultiaddrConnection (_maConn: MultiaddrConnection): void {}

  registerMetric = noMetric as Metrics['registerMetric']
  registerMetricGroup = noMetric as Metrics['registerMetricGroup']
  registerCounter = noMetric as Metrics['registerCounter']
  registerCounterGroup = noMetric as Metrics['registerCounterGroup']
  registerHistogram = noMetric as Metrics['registerHistogram']
  registerHistogramGroup = noMetric as Metrics['registerHistogramGroup']
  registerSummary = noMetric as Metrics['registerSummary']
  registerSummaryGroup = noMetric as Metrics['registerSummaryGroup']

  traceFunction<F extends (...args: any[]) => any>(_name: string, fn: F): F {
    return fn
  }

  createTrace (): undefined {
    return undefined
  }
}

const noop = (): void => {}
const stopTimer = (): (() => void) => noop

/** A metric that records nothing; one object serves every kind (gauge, counter, histogram, summary, and their groups). */
const NO_METRIC = {
  update: noop,
  increment: noop,
  decrement: noop,
  reset: noop,
  observe: noop,
  timer: stopTimer
}

function noMetric (_name: string, options?: { calculate?: unknown }): typeof NO_METRIC | undefined {
  // calculated metrics are pulled at scrape time, and nothing scrapes
  return options?.calculate != null ? undefined : NO_METRIC
}
