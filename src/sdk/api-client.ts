import { DaemonNotRunning, LocalApiError } from '../daemon/errors.js'
import { locateDaemon, type SdkOptions } from './daemon-locator.js'

/** A typed client of the daemon's local HTTP API (what the CLI and the web UI use). */
export class LocalApiClient {
  /** Throws DaemonNotRunning (or IdentityMissing) at once if there is no daemon to talk to. */
  constructor (private readonly options: SdkOptions = {}) {
    locateDaemon(options)
  }

  async get<T> (path: string): Promise<T> {
    return await this.request<T>('GET', path)
  }

  async post<T> (path: string, body: unknown): Promise<T> {
    return await this.request<T>('POST', path, body)
  }

  async delete<T> (path: string): Promise<T> {
    return await this.request<T>('DELETE', path)
  }

  private async request<T> (method: string, path: string, body?: unknown): Promise<T> {
    // read afresh each time: a daemon restarted since has another port and token
    const endpoint = locateDaemon(this.options)
    const headers: Record<string, string> = { authorization: `Bearer ${endpoint.token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(`http://127.0.0.1:${endpoint.info.apiPort}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch (err) {
      // daemon.json still there, nothing listening: the daemon stopped (or is stopping), as `connect` says too
      if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') throw new DaemonNotRunning(endpoint.home)
      throw new LocalApiError('API_UNREACHABLE', `cannot reach the daemon's API (${(err as Error).message}); is \`cspace daemon\` running?`)
    }
    const json = await res.json().catch(() => ({})) as { error?: { code: string, message: string } }
    if (!res.ok) {
      const e = json.error ?? { code: `HTTP_${res.status}`, message: res.statusText }
      throw new LocalApiError(e.code, e.message, res.status === 400 || res.status === 404 ? 2 : 1)
    }
    return json as T
  }
}
