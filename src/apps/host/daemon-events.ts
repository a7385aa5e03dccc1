import { LocalApiClient } from '../../sdk/index.js'

export interface DaemonEventLine { seq: number, type: string, at: number, data: unknown }

const POLL_MS = 1000

/**
 * Follows the daemon's event stream (GET /v1/events?since=N) while `wanted()`
 * says someone cares — e.g. while a message waits for its recipient to come
 * online — so an idle app costs the daemon nothing.
 */
export class DaemonEventFollower {
  private readonly api: LocalApiClient
  private seq = -1
  private timer?: NodeJS.Timeout
  private stopped = false

  constructor (options: { home?: string }, private readonly wanted: () => boolean, private readonly onEvent: (e: DaemonEventLine) => void) {
    this.api = new LocalApiClient(options)
  }

  /** Starts (or resumes) polling; call again whenever `wanted()` may have become true. */
  poke (): void {
    if (this.stopped || this.timer != null) return
    this.timer = setTimeout(() => { void this.poll() }, this.seq < 0 ? 0 : POLL_MS)
    this.timer.unref()
  }

  stop (): void {
    this.stopped = true
    if (this.timer != null) clearTimeout(this.timer)
  }

  private async poll (): Promise<void> {
    try {
      const { events } = await this.api.get<{ events: DaemonEventLine[] }>(`/v1/events?since=${Math.max(0, this.seq)}`)
      const first = this.seq < 0
      for (const e of events) {
        this.seq = Math.max(this.seq, e.seq)
        if (!first) this.onEvent(e) // the backlog from before we started is history, not news
      }
      if (first && this.seq < 0) this.seq = 0
    } catch {
      // the daemon is stopping or busy: try again next round
    }
    this.timer = undefined
    if (this.wanted()) this.poke()
  }
}
