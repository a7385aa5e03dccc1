import { resolve } from 'node:path'
import { duplexPair, type Duplex } from 'node:stream'
import type { Stream } from '@libp2p/interface'
import { ConnectStatus, pipeSocketStream, type CallerInfo, type ServiceRegistry, type SessionManager } from '../session/index.js'
import { componentLogger } from '../util/log.js'

const log = componentLogger('daemon:in-process')

/**
 * The daemon running in this process, for SDK callers in the same process —
 * the apps' background parts, which `cspace daemon` starts beside the node.
 * They use the SDK as any program does, and the SDK comes here instead of
 * the application port: a session's bytes then go from the libp2p stream to
 * the app through an in-memory pair of streams, not through a loopback TCP
 * connection that the same process writes and reads again (for a file
 * transfer, that hop was a third of the receiving daemon's CPU).
 */
export interface InProcessDaemon {
  connect: (user: string, service: string, options?: { signal?: AbortSignal, onAsking?: () => void }) => Promise<Duplex>
  /** Offers `service` until closed here or the daemon stops (then `closed` resolves). */
  listen: (service: string, handler: (session: Duplex, caller: CallerInfo) => void) => { close: () => void, closed: Promise<void> }
}

const daemons = new Map<string, InProcessDaemon>()

/** The daemon of the profile at `home` if it runs in this process. */
export function inProcessDaemon (home: string): InProcessDaemon | undefined {
  return daemons.get(resolve(home))
}

/** Makes this process's daemon reachable in-process; returns the function that undoes it. */
export function registerInProcessDaemon (home: string, components: { sessions: SessionManager, services: ServiceRegistry }): () => void {
  const key = resolve(home)
  const listeners = new Set<() => void>()
  const daemon: InProcessDaemon = {
    connect: async (user, service, options = {}) => sessionDuplex(await components.sessions.connect(user, service, options)),
    listen: (service, handler) => {
      const unregister = components.services.register(service, (request) => {
        request.accept().then((stream) => { handler(sessionDuplex(stream), request.caller) }, (err: Error) => {
          log('accepting %s failed: %e', service, err)
          request.reject(ConnectStatus.ServiceUnreachable, 'the application could not take the session')
        })
      }, 'an app in the daemon (run it with --no-apps to offer the name yourself)')
      let end = (): void => {}
      const closed = new Promise<void>((resolve) => { end = resolve })
      const close = (): void => { unregister(); listeners.delete(close); end() }
      listeners.add(close)
      return { close, closed }
    }
  }
  daemons.set(key, daemon)
  return () => {
    if (daemons.get(key) === daemon) daemons.delete(key)
    for (const close of [...listeners]) close()
  }
}

/**
 * The app's end of a session: one side of an in-memory pair, the other side
 * piped to the stream exactly as a TCP socket would be (backpressure and
 * half-close both ways). Like a TCP peer, each side sees the other's abrupt
 * destroy() as a reset (duplexPair alone passes on only a destroy with an error).
 */
function sessionDuplex (stream: Stream): Duplex {
  const [app, ours] = duplexPair()
  const resetOnClose = (from: Duplex, to: Duplex): void => {
    from.once('close', () => {
      // abrupt: an error, an end of writing never sent, or reading stopped while the other side still writes
      const abrupt = from.errored != null || !from.writableFinished || (!from.readableEnded && !to.writableFinished)
      if (to.destroyed || !abrupt) return
      to.destroy(from.errored ?? Object.assign(new Error('the other end was destroyed'), { code: 'ECONNRESET' }))
    })
  }
  resetOnClose(app, ours)
  resetOnClose(ours, app)
  // the pipe deals with our side's errors while it runs; one after it finished (a reset passed on) is no one's to hear
  ours.on('error', (err) => { log('session side: %e', err) })
  void pipeSocketStream(ours, stream)
  return app
}
