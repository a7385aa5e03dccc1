/**
 * Waits for `work` to settle, but no longer than `ms`: true if it settled
 * (resolved or rejected) in time, false if the deadline came first. For steps
 * that must end even when a library call inside them does not (a daemon's
 * shutdown on SIGTERM).
 */
export async function settledWithin (work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([work.then(() => true, () => true), deadline])
  } finally {
    clearTimeout(timer)
  }
}
