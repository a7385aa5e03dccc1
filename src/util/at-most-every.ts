/**
 * A signal that something changed, passed on at most once per `ms`: the first
 * call starts a timer and `onChange` runs when it fires, with every call in
 * between folded into that one. For counts that change per connection (a
 * tunnel's open sessions), so that listeners hear "look again", not each step.
 * The timer does not keep the process alive; `stop` drops a pending one, and
 * calls after it do nothing (its owner is shutting down).
 */
export interface Coalesced { (): void, stop: () => void }

export function atMostEvery (ms: number, onChange: () => void): Coalesced {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const signal = (): void => {
    if (timer != null || stopped) return
    timer = setTimeout(() => { timer = undefined; onChange() }, ms)
    timer.unref()
  }
  return Object.assign(signal, {
    stop: () => {
      stopped = true
      if (timer != null) clearTimeout(timer)
      timer = undefined
    }
  })
}
