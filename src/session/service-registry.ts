import type { Stream } from '@libp2p/interface'
import type { ConnectStatus } from './connect-protocol.js'

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
  private readonly handlers = new Map<string, ServiceHandler>()

  /** Registers a handler; returns the function that removes exactly this registration. */
  register (service: string, handler: ServiceHandler): () => void {
    this.handlers.set(service, handler)
    return () => {
      if (this.handlers.get(service) === handler) this.handlers.delete(service)
    }
  }

  get (service: string): ServiceHandler | undefined {
    return this.handlers.get(service)
  }

  has (service: string): boolean {
    return this.handlers.has(service)
  }

  names (): string[] {
    return [...this.handlers.keys()].sort()
  }
}
