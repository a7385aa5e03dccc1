import net from 'node:net'
import { closeSync } from 'node:fs'
import { tcp, type TCPComponents, type TCPSocketOptions } from '@libp2p/tcp'
import type { Listener, PeerId, Transport } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { loadNativeAddon } from '../util/package-files.js'
import { tcpPort, tcpTarget } from './addresses.js'

/**
 * libp2p's TCP transport, with hole-punch dials leaving from the listening
 * port. That is what makes TCP hole punching possible: a NAT that keeps
 * ports maps the listening port to the same port on its public address,
 * which the other side learns (the IP a router saw, with our listening
 * port), and both sides dial each other at the same moment (DCUtR); the
 * SYNs cross and each NAT lets the other's through as the answer to its own
 * (TCP simultaneous open).
 * Node cannot bind a client socket to a port a listener holds, so the
 * connect is made by a small addon (native/reuseport.c) with SO_REUSEPORT,
 * and the listener sets `reusePort`. Only hole-punch dials do this; where it
 * cannot work (no listener yet, no addon, the same remote already reached
 * from this port) the dial is libp2p's own.
 */
export function punchableTcp (self: PeerId): (components: TCPComponents) => Transport {
  return (components) => {
    const transport = tcp({ listenOpts: { reusePort: true } as TCPSocketOptions })(components) as Transport & PrivateTcp
    let listenPort: number | undefined
    const createListener = transport.createListener.bind(transport)
    transport.createListener = (options) => {
      const listener: Listener = createListener(options)
      listener.addEventListener('listening', () => {
        listenPort ??= listener.getAddrs().map(tcpPort).find(p => p != null)
      })
      // with reusePort a second daemon on the same fixed port would share it
      // silently, the kernel spreading connections between the two: make sure
      // the port is free first, as a plain listen would
      const listen = listener.listen.bind(listener)
      listener.listen = async (ma) => {
        const target = tcpTarget(ma)
        if (target != null && target.port !== 0) await assertPortFree(target.host, target.port)
        await listen(ma)
      }
      return listener
    }
    const connect = transport._connect.bind(transport)
    // only a hole punch's dial leaves from the listening port: it is rare,
    // and the addon's connect holds a thread-pool thread until it is done
    transport._connect = async (ma, options) => {
      const target = tcpTarget(ma, 'ip4')
      if (options[PUNCH] !== true || addon == null || listenPort == null || target == null) return await connect(ma, options)
      try {
        return await connectFromPort(listenPort, target.host, target.port, options.signal)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        // this port already has a connection to that address, or cannot bind: dial as usual
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') return await connect(ma, options)
        throw err
      }
    }
    const dial = transport.dial.bind(transport)
    transport.dial = async (ma, options) => {
      if ((options as { priority?: number }).priority !== HOLE_PUNCH_DIAL_PRIORITY) return await dial(ma, options)
      // Both sides dial at once and the SYNs cross: one TCP connection that
      // each side opened. TLS needs one client and one server; DCUtR asks for
      // that with `initiator: false`, which libp2p 3.3's dial queue drops, so
      // both were clients and every punch failed ("unexpected message"). The
      // lower peer ID is the client, the same choice on both sides.
      const remote = ma.getComponents().findLast(c => c.name === 'p2p')?.value
      const initiator = remote == null || self.toString() < remote
      // yamux takes its role (odd or even stream IDs) from the raw
      // connection's direction, so the server side must call it inbound too
      const upgrader = Object.create(options.upgrader) as typeof options.upgrader
      upgrader.upgradeOutbound = async (maConn, opts) => {
        if (!initiator) (maConn as { direction: string }).direction = 'inbound'
        return await options.upgrader.upgradeOutbound(maConn, opts)
      }
      return await dial(ma, { ...options, upgrader, initiator, [PUNCH]: true } as typeof options)
    }
    return transport
  }
}

/** @libp2p/dcutr's priority for the simultaneous dials of a hole punch (DCUTR_DIAL_PRIORITY, not exported). */
const HOLE_PUNCH_DIAL_PRIORITY = 100

/** Marks the options of a hole-punch dial on their way from dial() to _connect(). */
const PUNCH = Symbol('cspace.punch')

/** The part of @libp2p/tcp's TCP class this wraps (pinned by package-lock; the NAT tests fail if it changes). */
interface PrivateTcp {
  _connect: (ma: Multiaddr, options: { signal: AbortSignal, [PUNCH]?: boolean }) => Promise<net.Socket>
}

interface ReuseportAddon {
  connectFrom: (localPort: number, ip: string, port: number, timeoutMs: number, callback: (err: Error | null, fd?: number) => void) => void
}

/** A punch that has not connected by then has failed (DCUtR itself gives up after 5 s). */
const CONNECT_TIMEOUT_MS = 5_000

const addon = loadNativeAddon<ReuseportAddon>('reuseport')

/** True when outgoing TCP connections can leave from the listening port (the addon is built). */
export const canPunchTcp = addon != null

/** A connected socket from `localPort` to host:port; rejects with the errno code, or on abort. */
export async function connectFromPort (localPort: number, host: string, port: number, signal?: AbortSignal): Promise<net.Socket> {
  if (addon == null) throw new Error('the reuseport addon is not built (npm ci builds it)')
  signal?.throwIfAborted()
  return await new Promise<net.Socket>((resolve, reject) => {
    let settled = false
    const onAbort = (): void => {
      settled = true
      reject(signal?.reason ?? new Error('aborted'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    addon.connectFrom(localPort, host, port, CONNECT_TIMEOUT_MS, (err, fd) => {
      signal?.removeEventListener('abort', onAbort)
      if (settled) {
        // aborted while the connect ran in the thread pool: nobody wants it
        if (fd != null) closeSync(fd)
        return
      }
      settled = true
      if (err != null || fd == null) {
        reject(Object.assign(new Error(`connection error ${host}:${port}: ${err?.message ?? 'no socket'}`), { code: (err as NodeJS.ErrnoException | null)?.code }))
        return
      }
      const socket = new net.Socket({ fd, readable: true, writable: true })
      socket.setNoDelay(true)
      socket.setKeepAlive(true)
      resolve(socket)
    })
  })
}

/** Rejects with EADDRINUSE if host:port is taken (a listen without reusePort, closed at once). */
async function assertPortFree (host: string, port: number): Promise<void> {
  const probe = net.createServer()
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject)
    probe.listen({ host, port, exclusive: true }, () => { probe.close(() => resolve()) })
  })
}
