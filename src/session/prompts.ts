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

interface Pending { request: PromptRequest, settle: (d: PromptDecision) => void, timer: NodeJS.Timeout }

/**
 * Requests the rules answered with "prompt", waiting for the user (API,
 * `cspace requests`); unanswered ones are denied when they expire, and ones
 * whose caller went away are dropped. Emits 'prompt' and 'prompt-settled'.
 */
export class PromptQueue extends EventTarget {
  private readonly timeoutMs: number
  private readonly maxPending: number
  private readonly now: () => number
  private readonly pending = new Map<string, Pending>()

  constructor (init: { timeoutMs?: number, maxPending?: number, now?: () => number } = {}) {
    super()
    this.timeoutMs = init.timeoutMs ?? 60_000
    this.maxPending = init.maxPending ?? 100
    this.now = init.now ?? Date.now
  }

  async ask (request: Omit<PromptRequest, 'id' | 'createdAt' | 'expiresAt'>, signal?: AbortSignal): Promise<PromptDecision> {
    if (this.pending.size >= this.maxPending || signal?.aborted === true) return 'deny'
    const createdAt = this.now()
    const full: PromptRequest = { ...request, id: randomBytes(4).toString('hex'), createdAt, expiresAt: createdAt + this.timeoutMs }
    return await new Promise<PromptDecision>((resolve) => {
      const onAbort = (): void => settle('deny')
      const settle = (decision: PromptDecision): void => {
        const p = this.pending.get(full.id)
        if (p == null) return
        clearTimeout(p.timer)
        signal?.removeEventListener('abort', onAbort)
        this.pending.delete(full.id)
        this.dispatchEvent(new CustomEvent('prompt-settled', { detail: { request: full, decision } }))
        resolve(decision)
      }
      const timer = setTimeout(() => settle('deny'), this.timeoutMs)
      timer.unref()
      this.pending.set(full.id, { request: full, settle, timer })
      signal?.addEventListener('abort', onAbort, { once: true })
      this.dispatchEvent(new CustomEvent('prompt', { detail: full }))
    })
  }

  list (): PromptRequest[] {
    return [...this.pending.values()].map(p => p.request)
  }

  answer (id: string, decision: PromptDecision): PromptRequest {
    const p = this.pending.get(id)
    if (p == null) throw new PromptNotFound(id)
    p.settle(decision)
    return p.request
  }

  close (): void {
    for (const p of [...this.pending.values()]) p.settle('deny')
  }
}
