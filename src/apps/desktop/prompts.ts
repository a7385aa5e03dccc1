import { createInterface, type Interface } from 'node:readline/promises'
import { LocalApiClient, type PendingRequest } from '../../sdk/index.js'
import { DESKTOP_SERVICE } from './desktop-share.js'

export interface PromptWatcher { stop: () => void }

/**
 * While sharing, asks the user about each contact's request for the desktop
 * (the daemon parks them as prompts, unless a rule already allows the contact).
 * On a terminal it asks y/N and answers through the local API; otherwise it
 * prints how to answer with `cspace requests`.
 */
export function watchDesktopPrompts (options: { home?: string, allowControl: boolean, intervalMs?: number, out: (line: string) => void, interactive: boolean }): PromptWatcher {
  const api = new LocalApiClient({ home: options.home })
  const seen = new Set<string>()
  const queue: PendingRequest[] = []
  let asking = false
  let stopped = false
  let rl: Interface | undefined
  const what = options.allowControl ? 'view and control your desktop [with control]' : 'view your desktop [view-only]'

  const askNext = async (): Promise<void> => {
    if (asking || queue.length === 0) return
    asking = true
    // the terminal is in raw mode only while a question is open, so Ctrl-C works as usual otherwise
    rl = createInterface({ input: process.stdin, output: process.stdout })
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT')) // Ctrl-C at the question still stops sharing
    for (let r = queue.shift(); r != null && !stopped; r = queue.shift()) {
      if (r.expiresAt <= Date.now()) continue
      const answer = await rl.question(`${r.caller.contactName ?? 'stranger'} (${r.caller.fingerprint}) wants to ${what}. Allow? [y/N] `).catch(() => 'n')
      const decision = /^y(es)?$/i.test(answer.trim()) ? 'allow' : 'deny'
      await api.post(`/v1/requests/${encodeURIComponent(r.id)}`, { decision })
        .catch((err: Error) => options.out(`could not answer (${err.message}); the request may have expired`))
    }
    rl.close()
    rl = undefined
    asking = false
  }

  const poll = async (): Promise<void> => {
    const { requests } = await api.get<{ requests: PendingRequest[] }>('/v1/requests')
    for (const r of requests) {
      if (r.service !== DESKTOP_SERVICE || seen.has(r.id)) continue
      seen.add(r.id)
      if (options.interactive) queue.push(r)
      else options.out(`request ${r.id}: ${r.caller.contactName ?? 'stranger'} (${r.caller.fingerprint}) wants to ${what}; answer with \`cspace requests allow ${r.id}\` or \`cspace requests deny ${r.id}\``)
    }
    void askNext()
  }

  // polled, not pushed: a missed tick only delays the question by one interval
  const timer = setInterval(() => { poll().catch(() => {}) }, options.intervalMs ?? 500)
  void poll().catch(() => {})
  return {
    stop: () => { stopped = true; clearInterval(timer); rl?.close() }
  }
}
