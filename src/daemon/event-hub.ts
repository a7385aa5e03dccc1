/** One daemon event, as sent to local clients (the WebSocket event stream, tests). */
export interface DaemonEvent { seq: number, type: string, at: number, data: unknown }

/**
 * The daemon's event stream: presence changes, prompts, tunnel activity.
 * Keeps the last few events so a reconnecting client can catch up by `seq`.
 */
export class EventHub {
  private seq = 0
  private readonly recent: DaemonEvent[] = []
  private readonly listeners = new Set<(e: DaemonEvent) => void>()

  constructor (private readonly keep = 256) {}

  publish (type: string, data: unknown): void {
    const event: DaemonEvent = { seq: ++this.seq, type, at: Date.now(), data }
    this.recent.push(event)
    if (this.recent.length > this.keep) this.recent.shift()
    for (const l of this.listeners) l(event)
  }

  /** The number of the last event published (0: none yet); it starts again at 1 when the daemon restarts. */
  latestSeq (): number {
    return this.seq
  }

  since (seq: number): DaemonEvent[] {
    return this.recent.filter(e => e.seq > seq)
  }

  subscribe (listener: (e: DaemonEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close (): void {
    this.listeners.clear()
  }
}
