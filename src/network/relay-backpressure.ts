import type { Stream } from '@libp2p/interface'

/**
 * Bytes a relay stream may hold unsent before its circuit's other side stops
 * reading; as a tunnel's pipe (session/pipe.ts), and far under the 8 MiB a
 * stream may hold at all (yamux-limits.ts).
 */
export const CIRCUIT_QUEUE_HIGH_WATER = 256 * 1024

/**
 * Flow control for a router's circuits. libp2p's relay joins a circuit's two
 * streams with `pipe`, whose reading side takes every message into a queue
 * of no bound while the writing side waits for 'drain': a sender faster than
 * its receiver (or a receiver that stops reading) grew the router by
 * everything sent. Here, when a relay stream refuses more (`send` returns
 * false, or its queue is long), the stream the bytes came from stops
 * reading (`pause()`: yamux stops granting its sender window) until that
 * queue is short again. The pipe hands on the very objects the source
 * dispatched, so each message's object tells which stream it arrived on;
 * nothing is copied.
 */
export class CircuitBackpressure {
  /** The relay stream each dispatched message arrived on. */
  private readonly arrivedOn = new WeakMap<object, Stream>()
  /** Streams paused here, until the queue of the stream their bytes go to is short. */
  private readonly held = new Set<Stream>()

  /** @param mayResume - whether a stream released here may read again now (the rate cap may be holding it) */
  constructor (private readonly mayResume: () => boolean = () => true) {}

  /**
   * Notes where each message of a relay stream arrived. Hooks the stream's
   * own dispatch rather than listening for 'message', which would take
   * bytes before the relay's reader is attached.
   */
  track (stream: Stream): void {
    const dispatch = stream.dispatchEvent.bind(stream)
    stream.dispatchEvent = (event: Event): boolean => {
      const data = (event as Event & { data?: unknown }).data
      if (event.type === 'message' && data != null && typeof data === 'object') this.arrivedOn.set(data, stream)
      return dispatch(event)
    }
  }

  /**
   * After `sink.send(data)`: if the sink refused more or holds a long queue,
   * the stream `data` came from waits until that queue is short again. Not
   * until 'drain' alone: yamux dispatches it to every stream of a connection
   * that drained, also to one whose own window is still shut.
   */
  sent (data: object, sink: Stream, accepted: boolean): void {
    if (accepted && sink.writeBufferLength <= CIRCUIT_QUEUE_HIGH_WATER) return
    const source = this.arrivedOn.get(data)
    if (source == null || source === sink || this.held.has(source) || source.readStatus !== 'readable') return
    source.pause()
    this.held.add(source)
    const release = (): void => {
      if (sink.status === 'open' && sink.writeBufferLength > CIRCUIT_QUEUE_HIGH_WATER) return
      for (const event of ['drain', 'idle', 'close'] as const) sink.removeEventListener(event, release)
      this.held.delete(source)
      if (source.readStatus === 'paused' && this.mayResume()) source.resume()
    }
    for (const event of ['drain', 'idle', 'close'] as const) sink.addEventListener(event, release)
  }

  /** Whether `stream` waits here for its circuit's other side. */
  isHeld (stream: Stream): boolean {
    return this.held.has(stream)
  }
}
