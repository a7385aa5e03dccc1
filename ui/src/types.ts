/** The parts of the local API's answers the UI reads (src/daemon/api/*.ts is the source of truth). */

export interface ApiErrorBody { error: { code: string, message: string } }

export interface ContactPresence {
  name: string
  peerId: string
  presence: 'online' | 'offline' | 'unknown' | 'checking' | 'unreachable'
  connections: number
}

/** An address-book entry (GET /v1/contacts). */
export interface Contact {
  name: string
  userId: string
  peerId: string
  fingerprint: string
  verified: boolean
  addedAt: number
  keyserver?: { url: string, username: string }
}

export interface PendingRequest {
  id: string
  service: string
  expiresAt: number
  caller: { contactName: string | null, fingerprint: string, userId: string }
}

export interface Status {
  user: { userId: string, fingerprint: string }
  node: { reachability: string, connections: number, relaySlots: Array<{ router: string, address: string }>, isolated: string | null }
  contacts: ContactPresence[]
  requests: PendingRequest[]
  forwards: Array<{ port: number, contact: string, service: string, active: number, total: number, lastError?: string, listening: boolean }>
  exposes: Array<{ service: string, kind: 'tcp' | 'exec', target: string, maxSessions?: number, active: number, total: number, refused: number, lastError?: string }>
}

/** GET /v1/connections (src/daemon/connection-info.ts). */
export interface ConnectionInfo {
  peerId: string
  contact: string | null
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  relayed: boolean
  openedAt: number
  streams: number
}

export interface DaemonEvent { seq: number, type: string, at: number, data: unknown }

/** A frame of /v1/events/ws (version 1). */
export type EventStreamMessage =
  | { v: 1, type: 'event', event: DaemonEvent }
  | { v: 1, type: 'reset', seq: number }

/** GET /v1/rules: the user's rules in the order they are checked, then the built-ins. */
export interface Rules {
  entries: Array<{ id: number, position: number, text: string }>
  builtIn: string[]
}

/** A chat message (the chat app's control channel; src/apps/chat/chat-store.ts is the source of truth). */
export interface ChatMessage {
  seq: number
  id: string
  peer: string
  direction: 'in' | 'out'
  text: string
  sentAt: number
  storedAt: number
  state: 'queued' | 'delivered' | 'failed' | 'unread' | 'read'
  error: string | null
}

/** A transfer the files app sends for the UI (src/apps/files/outbox.ts). */
export interface OutgoingView {
  id: string
  to: string
  toUserId: string
  files: string[]
  totalBytes: number
  sentBytes: number
  rate: number
  eta: number | null
  state: 'connecting' | 'waiting' | 'sending' | 'reconnecting' | 'done' | 'failed' | 'cancelled'
  error: string | null
  transfer: string | null
  saved: string[]
}

/** A transfer the files app receives (src/apps/files/host.ts TransferView). */
export interface IncomingView {
  id: string
  from: string
  fromUserId: string
  state: 'pending' | 'accepted' | 'complete' | 'declined' | 'failed'
  error: string | null
  files: number
  totalBytes: number
  receivedBytes: number
  rate: number
  /** False: no connection from the sender carries it now; it goes on when they send again. */
  connected: boolean
  paths: string[]
  saved: string[]
  /** The directory they are in (null for one completed by a daemon from before this was kept). */
  savedIn: string | null
}
