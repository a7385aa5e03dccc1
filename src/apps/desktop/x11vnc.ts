import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { stopChild } from '../../util/stop-child.js'
import { NoDisplay, X11vncFailed, X11vncMissing, X11vncStopped } from './errors.js'
import { findOnPath } from '../../util/find-on-path.js'

export interface X11vnc {
  /** The loopback port it serves RFB on. */
  port: number
  /** Rejects (X11vncStopped) if x11vnc ends before stop(): sharing without it would only refuse every viewer. */
  exited: Promise<never>
  stop: () => Promise<void>
}

async function freeLoopbackPort (): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}

/**
 * Runs x11vnc on the X display `display` (default $DISPLAY), bound to loopback
 * only: contacts reach it through cspace, never directly. No password, since
 * only the share process can connect. View-only at the server too unless
 * control is allowed (the filter in front enforces it regardless).
 */
export async function startX11vnc (options: { display?: string, allowControl: boolean, timeoutMs?: number }): Promise<X11vnc> {
  const display = options.display ?? process.env.DISPLAY
  if (display == null || display === '') throw new NoDisplay()
  const bin = findOnPath('x11vnc')
  if (bin == null) throw new X11vncMissing()
  const port = await freeLoopbackPort()
  const args = ['-display', display, '-localhost', '-rfbport', String(port), '-forever', '-shared', '-nopw']
  if (!options.allowControl) args.push('-viewonly')
  const proc: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  // x11vnc states a failure on a line of its own starting "*** ", then gives pages of tips ending in a link: the first such line says what failed
  let marked = ''
  const collect = (b: Buffer): void => {
    const text = output + b.toString()
    // whole lines only (a line may come in two chunks), in the text before it is cut to its tail
    if (marked === '') marked = /^\*\*\* (.*\S.*)\n/m.exec(text)?.[1].trim().slice(0, 300) ?? ''
    output = text.slice(-4096)
  }
  proc.stderr?.on('data', collect)
  // x11vnc prints "PORT=N" on stdout once it listens
  await new Promise<void>((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new X11vncFailed(`no listening port after ${options.timeoutMs ?? 20_000} ms`)) }, options.timeoutMs ?? 20_000)
    proc.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString()
      if (/^PORT=\d+/m.test(stdout)) { clearTimeout(timer); resolve() }
    })
    proc.once('error', (err) => { clearTimeout(timer); reject(new X11vncFailed(err.message)) })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      const last = marked !== '' ? marked : output.trim().split('\n').filter(l => l.trim() !== '').slice(-1)[0] ?? ''
      reject(new X11vncFailed(`it exited with code ${code ?? 'signal'} on display ${display}${last !== '' ? `: ${last.trim()}` : ''}`))
    })
  })
  proc.stdout?.resume()
  proc.removeAllListeners('exit')
  let stopping = false
  const exited = new Promise<never>((resolve, reject) => {
    proc.once('exit', (code, signal) => { if (!stopping) reject(new X11vncStopped(code != null ? `exit code ${code}` : `signal ${signal ?? '?'}`)) })
  })
  exited.catch(() => {}) // for whoever does not race it
  return {
    port,
    exited,
    stop: async () => { stopping = true; await stopChild(proc) }
  }
}
