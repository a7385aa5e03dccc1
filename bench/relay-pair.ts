import { freePort } from '../test/helpers/sshd.js'
import { startReadyProcess, type ReadyProcess } from './ready-process.js'

/**
 * The least a pair of daemons written in Node adds to a warm connect, about:
 * two processes (relay-pair-process.ts) relaying over TLS connections opened
 * beforehand (cspace's certificate and TLS 1.3 settings), one per application
 * connection, and nothing else — no multiplexing, no request, no libp2p.
 * What cspace adds beyond this is its own; what this adds over direct is the
 * design's (docs/BENCHMARKS.md, "Warm connect against its floor in Node").
 * Carries `connections` application connections to `target`.
 */
export async function startRelayPair (target: number, connections: number): Promise<{ port: number, stop: () => Promise<void> }> {
  const started: ReadyProcess[] = []
  const stop = async (): Promise<void> => { await Promise.all(started.map(async p => { await p.stop() })) }
  try {
    const servicePort = await freePort()
    started.push(await startReadyProcess('./relay-pair-process.js', ['service', String(servicePort), String(target)], 'the relay pair\'s service side', 60_000))
    const port = await freePort()
    started.push(await startReadyProcess('./relay-pair-process.js', ['app', String(port), String(servicePort), String(connections)], 'the relay pair\'s application side', 60_000))
    return { port, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
