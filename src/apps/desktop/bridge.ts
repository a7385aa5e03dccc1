import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { RfbViewOnlyFilter, type FilterOutput } from './rfb-filter.js'

export interface BridgeResult {
  /** Set when the view-only filter ended the session. */
  filterReason?: string
  /** Input events the filter dropped. */
  dropped: number
}

/**
 * Joins a contact's session socket to the VNC server's socket until both are
 * done. With a filter, every byte goes through it (view-only); without, the
 * two are piped as they are (control allowed). Backpressure: a side is paused
 * while the socket it feeds has a full buffer.
 */
export async function bridge (session: Duplex, vnc: Socket, viewOnly: boolean): Promise<BridgeResult> {
  const result: BridgeResult = { dropped: 0 }
  await new Promise<void>((resolve) => {
    let closedCount = 0
    const onClose = (closing: Duplex, other: Duplex) => (): void => {
      const hadError = closing.errored != null
      // a clean close lets the other side flush what it still holds (e.g. a filter's reason for the viewer)
      if (hadError) other.destroy()
      else {
        other.end()
        setTimeout(() => other.destroy(), 5000).unref()
      }
      if (++closedCount === 2) resolve()
    }
    session.once('close', onClose(session, vnc))
    vnc.once('close', onClose(vnc, session))
    session.on('error', () => vnc.destroy())
    vnc.on('error', () => session.destroy())
    session.once('end', () => vnc.end())
    vnc.once('end', () => session.end())

    if (!viewOnly) {
      session.pipe(vnc, { end: false })
      vnc.pipe(session, { end: false })
      return
    }
    const filter = new RfbViewOnlyFilter()
    const emit = (out: FilterOutput, source: Duplex): void => {
      let full = false
      for (const b of out.toServer) if (!vnc.write(b)) full = true
      for (const b of out.toClient) if (!session.write(b)) full = true
      result.dropped = filter.dropped
      if (out.close != null) {
        result.filterReason ??= out.close
        // the client gets what was queued for it (e.g. a security failure reason), then the end
        session.end()
        vnc.destroy()
        return
      }
      if (full) {
        source.pause()
        const resume = (): void => { if (session.writableNeedDrain || vnc.writableNeedDrain) return; source.resume() }
        if (vnc.writableNeedDrain) vnc.once('drain', resume)
        if (session.writableNeedDrain) session.once('drain', resume)
      }
    }
    session.on('data', (b: Buffer) => emit(filter.fromClient(b), session))
    vnc.on('data', (b: Buffer) => emit(filter.fromServer(b), vnc))
    // the caller may have paused them explicitly, which a 'data' listener does not undo
    session.resume()
    vnc.resume()
  })
  return result
}
