import { randomBytes } from 'node:crypto'
import { PromptNotFound } from './errors.js'

/** A parked "may this caller use this service?" question. */
export interface PromptRequest {
  id: string
  service: string
  caller: { peerId: string, userId: string, contactName?: string, fingerprint: string }
  createdAt: number
  expiresAt: number
}

export type PromptDecision = 'allow' | 'deny'
/** How a question ended: the person's answer, or none (expired, the queue full or closed, the caller gone). */
export type PromptOutcome = PromptDecision | 'unanswered'

/** `detail` of the 'prompt-settled' event (the 'prompt' event's detail is the PromptRequest). */
export interface PromptSettled { request: PromptRequest, decision: PromptOutcome }

/** How long a request waits for the user before it is denied, unless configured. */
export const PROMPT_TIMEOUT_MS = 60_000

export interface PromptQueueInit {
  /** How long a request waits for the user before it is denied. Default PROMPT_TIMEOUT_MS. */
  timeoutMs?: number
  /** Requests beyond this many pending are denied at once, so a flood cannot pile up. Default 100. */
  maxPending?: number
  /** Pending requests one caller (key) may have; more are denied at once. Default 3. */
  maxPendingPerCaller?: number
  /**
   * Pending requests from strangers, all together; default half of
   * maxPending. New keys cost nothing, so the rest is kept for contacts:
   * a flood of strangers asking for chat cannot deny a contact's question.
   */
  maxPendingStrangers?: number
  /** Clock for createdAt/expiresAt; injectable for tests. */
  now?: () => number
}

interface Pending { request: PromptRequest, settle: (d: PromptOutcome) => void, timer: NodeJS.Timeout }

/**
 * Requests the rules answered with "prompt", waiting for the user (API,
 * `cspace requests`); unanswered ones are denied when they expire, and ones
 * whose caller went away are dropped. Emits 'prompt' (detail: PromptRequest)
 * and 'prompt-settled' (detail: PromptSettled).
 */
export class PromptQueue extends EventTarget {
  private readonly timeoutMs: number
  private readonly maxPending: number
  private readonly maxPerCaller: number
  private readonly maxStrangers: number
  private readonly now: () => number
  private readonly pending = new Map<string, Pending>()
  private closed = false

  constructor (init: PromptQueueInit = {}) {
    super()
    this.timeoutMs = init.timeoutMs ?? PROMPT_TIMEOUT_MS
    this.maxPending = init.maxPending ?? 100
    this.maxPerCaller = init.maxPendingPerCaller ?? 3
    this.maxStrangers = init.maxPendingStrangers ?? Math.floor(this.maxPending / 2)
    this.now = init.now ?? Date.now
  }

  /** Parks the request until answered; resolves 'unanswered' on expiry, abort, a full queue (or the caller's share of it) or close. */
  async ask (request: Omit<PromptRequest, 'id' | 'createdAt' | 'expiresAt'>, signal?: AbortSignal): Promise<PromptOutcome> {
    if (this.closed || signal?.aborted === true || !this.hasRoomFor(request.caller)) return 'unanswered'
    const createdAt = this.now()
    const full: PromptRequest = { ...request, id: this.newId(), createdAt, expiresAt: createdAt + this.timeoutMs }
    return await new Promise<PromptOutcome>((resolve) => {
      const onAbort = (): void => settle('unanswered')
      const settle = (decision: PromptOutcome): void => {
        const p = this.pending.get(full.id)
        if (p == null) return // already settled
        clearTimeout(p.timer)
        signal?.removeEventListener('abort', onAbort)
        this.pending.delete(full.id)
        resolve(decision)
        this.dispatchEvent(new CustomEvent<PromptSettled>('prompt-settled', { detail: { request: full, decision } }))
      }
      const timer = setTimeout(() => settle('unanswered'), this.timeoutMs)
      timer.unref() // a pending question must not keep the process alive
      this.pending.set(full.id, { request: full, settle, timer })
      signal?.addEventListener('abort', onAbort, { once: true })
      this.dispatchEvent(new CustomEvent<PromptRequest>('prompt', { detail: full }))
    })
  }

  list (): PromptRequest[] {
    return [...this.pending.values()].map(p => p.request)
  }

  /** Settles a pending request; throws PromptNotFound if it is unknown, settled or expired. */
  answer (id: string, decision: PromptDecision): PromptRequest {
    const p = this.pending.get(id)
    if (p == null) throw new PromptNotFound(id)
    // A busy event loop can run the expiry timer late: an answer after expiresAt is too late.
    if (this.now() >= p.request.expiresAt) {
      p.settle('unanswered')
      throw new PromptNotFound(id)
    }
    p.settle(decision)
    return p.request
  }

  /** Denies everything pending and refuses new requests. */
  close (): void {
    this.closed = true
    for (const p of [...this.pending.values()]) p.settle('unanswered')
  }

  private hasRoomFor (caller: PromptRequest['caller']): boolean {
    if (this.pending.size >= this.maxPending) return false
    let sameCaller = 0
    let strangers = 0
    for (const { request } of this.pending.values()) {
      if (request.caller.peerId === caller.peerId) sameCaller++
      if (request.caller.contactName == null) strangers++
    }
    return sameCaller < this.maxPerCaller && (caller.contactName != null || strangers < this.maxStrangers)
  }

  private newId (): string {
    // 8 hex chars are easy to type; re-draw on the rare clash with a pending id.
    let id: string
    do id = randomBytes(4).toString('hex')
    while (this.pending.has(id))
    return id
  }
}
