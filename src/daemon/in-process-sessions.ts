import { duplexPair, type Duplex } from 'node:stream'
import type { Stream } from '@libp2p/interface'
import { ConnectStatus, pipeSocketStream, type ServiceRegistry, type SessionManager } from '../session/index.js'
import { componentLogger } from '../util/log.js'
import { setInProcessDaemon, type InProcessDaemon } from './in-process.js'

const log = componentLogger('daemon:in-process')

/** Makes this process's daemon reachable in-process; returns the function that undoes it. */
export function registerInProcessDaemon (home: string, components: { sessions: SessionManager, services: ServiceRegistry }): () => void {
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
  const unset = setInProcessDaemon(home, daemon)
  return () => {
    unset()
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
