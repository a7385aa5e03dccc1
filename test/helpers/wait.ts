import { connect } from 'node:net'

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T> (what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      lastError = err
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError != null ? ` (last error: ${(lastError as Error).message})` : ''}`)
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export async function portOpen (port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** Waits until 127.0.0.1:port accepts connections. */
export async function waitPort (port: number, what = `port ${port}`, timeoutMs = 10_000): Promise<void> {
  await waitFor(what, async () => await portOpen(port), timeoutMs, 50)
}
