import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { spawnCspace } from './cli.js'
import { tempDir } from './files.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { userIdFromPublicKey } from '../../src/identity/index.js'
import { operationHash, signOperation, type SignedOperation, type UnsignedOperation } from '../../src/keyserver/operation.js'

export interface RunningKeyServer {
  url: string
  proc: ChildProcess
  /** Every structured log line so far, parsed. */
  logs: () => Array<Record<string, unknown>>
  /** Sends a signal and waits for the exit code. */
  signal: (sig: NodeJS.Signals) => Promise<number | null>
  stop: () => Promise<number | null>
}

/** Starts `cspace keyserver` on a free loopback port and waits for its "listening" log line. */
export async function startKeyServer (db: string, args: string[] = [], env?: Record<string, string>): Promise<RunningKeyServer> {
  const proc = spawnCspace(['keyserver', '--host', '127.0.0.1', '--port', '0', '--db', db, ...args], { home: tempDir('cspace-ks-home-'), env })
  const lines: Array<Record<string, unknown>> = []
  let stderr = ''
  let partial = ''
  proc.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`key server did not start: ${stderr}`)), 20_000)
    proc.stdout?.on('data', (b: Buffer) => {
      partial += b.toString()
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      for (const p of parts) {
        const line = JSON.parse(p) as Record<string, unknown>
        lines.push(line)
        if (line.event === 'keyserver-listening') { clearTimeout(timer); resolve(line.url as string) }
      }
    })
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`key server exited with ${code}: ${stderr}`)) })
  })
  const exited = once(proc, 'exit').then(([code]) => code as number | null)
  return {
    url,
    proc,
    logs: () => lines,
    signal: async (sig) => { proc.kill(sig); return await exited },
    stop: async () => { proc.kill('SIGTERM'); return await exited }
  }
}

/** A key pair as a key server client holds it. */
export interface KeyUser { key: PrivateKey, id: string }

export async function newKeyUser (): Promise<KeyUser> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: userIdFromPublicKey(key.publicKey).text }
}

export interface HttpAnswer { status: number, body: any, headers: Headers }

/** One HTTP request to the key server; a string body is sent as is, anything else as JSON. */
export async function http (url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const res = await fetch(url + path, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers }
}

/** Signs an operation for `user` (and `oldUser` for a rotation) and posts it to its name's log. */
export async function postOperation (url: string, fields: UnsignedOperation, user: KeyUser, oldUser?: KeyUser): Promise<HttpAnswer> {
  const op = await signOperation(fields, user.key, oldUser?.key)
  return await http(url, 'POST', `/v1/users/${op.username}/log`, op)
}

/** The hash a next operation on `username` must name as prev ('' if never registered). */
export async function headOf (url: string, username: string): Promise<string> {
  const r = await http(url, 'GET', `/v1/users/${username}/log?limit=200`)
  if (r.status === 404) return ''
  const ops = r.body.operations as SignedOperation[]
  return operationHash(ops[ops.length - 1])
}

export async function register (url: string, user: KeyUser, username: string, displayName = ''): Promise<HttpAnswer> {
  return await postOperation(url, { op: 'register', username, key: user.id, displayName, prev: await headOf(url, username) }, user)
}
