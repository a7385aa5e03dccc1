/**
 * A signal that something changed, passed on at most once per `ms`: the first
 * call starts a timer and `onChange` runs when it fires, with every call in
 * between folded into that one. For counts that change per connection (a
 * tunnel's open sessions), so that listeners hear "look again", not each step.
 * The timer does not keep the process alive; `cancel` drops a pending one.
 */
export interface Coalesced { (): void, cancel: () => void }

export function atMostEvery (ms: number, onChange: () => void): Coalesced {
  let timer: NodeJS.Timeout | undefined
  const signal = (): void => {
    if (timer != null) return
    timer = setTimeout(() => { timer = undefined; onChange() }, ms)
    timer.unref()
  }
  return Object.assign(signal, { cancel: () => { if (timer != null) clearTimeout(timer); timer = undefined } })
}
