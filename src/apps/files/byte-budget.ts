/**
 * Bytes that many readers may hold at once, together: each takes what it is
 * about to keep and gives it back when done. Used for offers being read (up
 * to 8 MiB each, on as many streams as a peer may open).
 */
export class ByteBudget {
  private used = 0

  constructor (readonly limit: number) {}

  /** Takes `n` bytes; false, taking nothing, when that would pass the limit. */
  take (n: number): boolean {
    if (this.used + n > this.limit) return false
    this.used += n
    return true
  }

  give (n: number): void {
    this.used = Math.max(0, this.used - n)
  }

  /** Bytes taken now. */
  get inUse (): number {
    return this.used
  }
}
