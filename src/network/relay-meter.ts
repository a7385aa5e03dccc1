import type { Metrics, MultiaddrConnection, Stream } from '@libp2p/interface'
import { RELAY_V2_HOP_CODEC, RELAY_V2_STOP_CODEC } from '@libp2p/circuit-relay-v2'
import { CircuitBackpressure } from './relay-backpressure.js'

/**
 * Counts the bytes a router forwards for relayed connections, and caps their
 * rate if the operator asked: what it sends on relay streams (HOP towards
 * the caller, STOP towards the callee), i.e. the relayed traffic in both
 * directions plus a few bytes of relay handshake. It plugs into libp2p as
 * its metrics sink, the one hook that sees every protocol stream, and counts
 * by wrapping `send` — never by listening for 'message', which would take
 * bytes before the relay's own reader is attached. Every other metric
 * libp2p registers is a no-op.
 *
 * The cap is a token bucket over all relayed traffic: once a second's worth
 * is spent, every relay stream stops reading (`pause()`: yamux then stops
 * granting the senders window) until the bucket has refilled. Each circuit
 * also waits for its slower side (relay-backpressure.ts).
 */
export class RelayMeter implements Metrics {
  /** Bytes forwarded since start. */
  relayedBytes = 0
  private readonly streams = new Set<Stream>()
  private tokens: number
  private refilledAt = performance.now()
  private resumeTimer?: ReturnType<typeof setTimeout>
  private readonly backpressure = new CircuitBackpressure(() => this.resumeTimer == null)

  /** @param bytesPerSecond - the relay's rate cap; 0 for none */
  constructor (private readonly bytesPerSecond = 0) {
    this.tokens = bytesPerSecond
  }

  trackProtocolStream (stream: Stream): void {
    if (stream.protocol !== RELAY_V2_HOP_CODEC && stream.protocol !== RELAY_V2_STOP_CODEC) return
    this.backpressure.track(stream)
    const send = stream.send.bind(stream)
    stream.send = (data) => {
      this.relayedBytes += data.byteLength
      if (this.bytesPerSecond > 0) this.spend(data.byteLength)
      const accepted = send(data)
      this.backpressure.sent(data, stream, accepted)
      return accepted
    }
    if (this.bytesPerSecond > 0) {
      this.streams.add(stream)
      stream.addEventListener('close', () => this.streams.delete(stream), { once: true })
    }
  }

  private refill (): void {
    const now = performance.now()
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + this.bytesPerSecond * (now - this.refilledAt) / 1000)
    this.refilledAt = now
  }

  private spend (bytes: number): void {
    this.refill()
    this.tokens -= bytes
    if (this.tokens >= 0 || this.resumeTimer != null) return
    for (const s of this.streams) if (s.readStatus === 'readable') s.pause()
    this.scheduleResume()
  }

  private scheduleResume (): void {
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined
      this.refill()
      if (this.tokens < 0) { this.scheduleResume(); return }
      for (const s of this.streams) if (s.readStatus === 'paused' && !this.backpressure.isHeld(s)) s.resume()
    }, Math.max(10, -this.tokens / this.bytesPerSecond * 1000))
    this.resumeTimer.unref?.()
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
