import { openAppStore, type AppStore } from '../../sdk/index.js'

/** A stored chat message; `peer` is the other user's ID, which survives contact renames. */
export interface ChatMessage {
  seq: number
  id: string
  peer: string
  direction: 'in' | 'out'
  text: string
  /** The author's clock, ms. */
  sentAt: number
  /** This side's clock when stored, ms. */
  storedAt: number
  /** out: queued → delivered | failed; in: unread → read */
  state: 'queued' | 'delivered' | 'failed' | 'unread' | 'read'
  error: string | null
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL,
     peer TEXT NOT NULL,
     direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
     text TEXT NOT NULL,
     sent_at INTEGER NOT NULL,
     stored_at INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed', 'unread', 'read')),
     error TEXT,
     UNIQUE (peer, direction, id)
   );
   CREATE INDEX messages_by_peer ON messages (peer, seq);
   CREATE INDEX messages_by_state ON messages (state, peer);`
]

const COLUMNS = 'seq, id, peer, direction, text, sent_at AS sentAt, stored_at AS storedAt, state, error'

/**
 * Both directions of every conversation, in the chat app's own database
 * (`apps/chat/chat.db`). A message is committed before it is acknowledged or
 * sent, so a crash loses nothing; (peer, direction, id) is unique, so a
 * message re-sent after a lost ack is stored once.
 */
export class ChatStore {
  private constructor (private readonly store: AppStore, private readonly now: () => number) {}

  static open (home: string, now: () => number = Date.now): ChatStore {
    return new ChatStore(openAppStore('chat', MIGRATIONS, { home }), now)
  }

  close (): void {
    this.store.close()
  }

  addOutgoing (peer: string, id: string, text: string): ChatMessage {
    const at = this.now()
    this.store.prepare("INSERT INTO messages (id, peer, direction, text, sent_at, stored_at, state) VALUES (?, ?, 'out', ?, ?, ?, 'queued')").run(id, peer, text, at, at)
    return this.get(peer, 'out', id) as ChatMessage
  }

  /** Stores an incoming message unless it is already stored; `fresh` says which. */
  receive (peer: string, id: string, sentAt: number, text: string): { message: ChatMessage, fresh: boolean } {
    const res = this.store.prepare("INSERT OR IGNORE INTO messages (id, peer, direction, text, sent_at, stored_at, state) VALUES (?, ?, 'in', ?, ?, ?, 'unread')").run(id, peer, text, sentAt, this.now())
    return { message: this.get(peer, 'in', id) as ChatMessage, fresh: res.changes > 0 }
  }

  /** Marks a queued outgoing message delivered; undefined if it was not queued (a repeated ack). */
  markDelivered (peer: string, id: string): ChatMessage | undefined {
    const res = this.store.prepare("UPDATE messages SET state = 'delivered' WHERE peer = ? AND direction = 'out' AND id = ? AND state = 'queued'").run(peer, id)
    return res.changes > 0 ? this.get(peer, 'out', id) : undefined
  }

  markFailed (peer: string, id: string, error: string): ChatMessage | undefined {
    const res = this.store.prepare("UPDATE messages SET state = 'failed', error = ? WHERE peer = ? AND direction = 'out' AND id = ? AND state = 'queued'").run(error, peer, id)
    return res.changes > 0 ? this.get(peer, 'out', id) : undefined
  }

  /** Queued messages older than `maxAgeMs` become failed; returns them. */
  expire (maxAgeMs: number): ChatMessage[] {
    const cutoff = this.now() - maxAgeMs
    const old = this.store.prepare(`SELECT ${COLUMNS} FROM messages WHERE state = 'queued' AND stored_at < ?`).all(cutoff) as unknown as ChatMessage[]
    for (const m of old) this.markFailed(m.peer, m.id, 'not delivered within 7 days')
    return old
  }

  queued (peer: string): ChatMessage[] {
    return this.store.prepare(`SELECT ${COLUMNS} FROM messages WHERE state = 'queued' AND peer = ? ORDER BY seq`).all(peer) as unknown as ChatMessage[]
  }

  peersWithQueued (): string[] {
    return (this.store.prepare("SELECT DISTINCT peer FROM messages WHERE state = 'queued'").all() as Array<{ peer: string }>).map(r => r.peer)
  }

  /** The last `limit` messages with `peer`, oldest first. */
  history (peer: string, limit: number): ChatMessage[] {
    const rows = this.store.prepare(`SELECT ${COLUMNS} FROM messages WHERE peer = ? ORDER BY seq DESC LIMIT ?`).all(peer, limit) as unknown as ChatMessage[]
    return rows.reverse()
  }

  /** Unread incoming messages, oldest first, from `peer` or from everyone. */
  unread (peer?: string): ChatMessage[] {
    return (peer == null
      ? this.store.prepare(`SELECT ${COLUMNS} FROM messages WHERE state = 'unread' ORDER BY seq`).all()
      : this.store.prepare(`SELECT ${COLUMNS} FROM messages WHERE state = 'unread' AND peer = ? ORDER BY seq`).all(peer)) as unknown as ChatMessage[]
  }

  /** Marks unread messages read, up to and including `uptoSeq` (so one that arrives meanwhile stays unread). */
  markRead (peer: string | undefined, uptoSeq: number): number {
    const res = peer == null
      ? this.store.prepare("UPDATE messages SET state = 'read' WHERE state = 'unread' AND seq <= ?").run(uptoSeq)
      : this.store.prepare("UPDATE messages SET state = 'read' WHERE state = 'unread' AND peer = ? AND seq <= ?").run(peer, uptoSeq)
    return Number(res.changes)
  }

  unreadCounts (): Array<{ peer: string, count: number }> {
    return this.store.prepare("SELECT peer, COUNT(*) AS count FROM messages WHERE state = 'unread' GROUP BY peer ORDER BY MIN(seq)").all() as Array<{ peer: string, count: number }>
  }

  private get (peer: string, direction: 'in' | 'out', id: string): ChatMessage | undefined {
    return this.store.prepare(`SELECT ${COLUMNS} FROM messages WHERE peer = ? AND direction = ? AND id = ?`).get(peer, direction, id) as unknown as ChatMessage | undefined
  }
}
