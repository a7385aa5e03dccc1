import type { Stream } from '@libp2p/interface'
import type { ConnectStatus } from './connect-protocol.js'
import { ServiceTaken } from './errors.js'
import { validateServiceName } from './permissions.js'

/** Who is calling: always an authenticated key; a contact name when they are one. */
export interface CallerInfo {
  peerId: string
  userId: string
  fingerprint: string
  contactName?: string
}

/**
 * An authorised request for a local service. The handler either accepts it
 * (status OK is sent, the stream is the application's) or rejects it with a
 * status, e.g. ServiceUnreachable when the local target refuses.
 */
export interface IncomingRequest {
  readonly service: string
  readonly caller: CallerInfo
  accept: () => Promise<Stream>
  reject: (status: ConnectStatus, message?: string) => void
}

export type ServiceHandler = (request: IncomingRequest) => void | Promise<void>

/** The services this daemon offers, by name: exposes, SDK listeners, built-in apps. */
export class ServiceRegistry {
  private readonly handlers = new Map<string, { handler: ServiceHandler, offeredBy: string }>()

  /**
   * Registers a handler; returns the function that removes exactly this
   * registration. A name already offered is refused (ServiceTaken), never
   * taken over: a program listening on "chat" would otherwise silently
   * replace the chat app, and leave nothing behind when it stopped.
   * `offeredBy` names the owner in that refusal.
   */
  register (service: string, handler: ServiceHandler, offeredBy: string): () => void {
    validateServiceName(service)
    const current = this.handlers.get(service)
    if (current != null) throw new ServiceTaken(service, current.offeredBy)
    const entry = { handler, offeredBy }
    this.handlers.set(service, entry)
    return () => {
      if (this.handlers.get(service) === entry) this.handlers.delete(service)
    }
  }

  get (service: string): ServiceHandler | undefined {
    return this.handlers.get(service)?.handler
  }

  has (service: string): boolean {
    return this.handlers.has(service)
  }

  names (): string[] {
    return [...this.handlers.keys()].sort()
  }
}
