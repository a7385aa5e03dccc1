import { Libp2pRecord } from '@libp2p/record'
import { Key, type Datastore } from 'interface-datastore'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'
import { decodePresence, type PresenceRecord } from './presence-record.js'
import { InvalidPresenceRecord } from './errors.js'

/** No record may claim to be valid further ahead than this (plus clock skew). */
export const MAX_PRESENCE_TTL_MS = 24 * 60 * 60 * 1000
const CLOCK_SKEW_MS = 5 * 60 * 1000

export interface PresenceValidatorComponents {
  /** The DHT's datastore, to compare an incoming record with the one held. */
  datastore: Datastore
}

export interface PresenceValidatorInit {
  /** Must match the kad-dht `datastorePrefix` (default '/dht'). */
  datastorePrefix?: string
  now?: () => number
}

/**
 * The kad-dht validator for /cspace/ keys, run on every record this node
 * stores (PUT_VALUE), returns from its store, or receives in a lookup:
 * signature by the key the DHT key names, size, expiry, and a sequence number
 * no lower than the record held (equal only for the very same bytes).
 */
export function presenceValidator (components: PresenceValidatorComponents, init: PresenceValidatorInit = {}): ValidateFn {
  const prefix = `${init.datastorePrefix ?? '/dht'}/record`
  const now = init.now ?? Date.now
  return async (key, value, options) => {
    const record = await decodePresence(key, value)
    checkExpiry(record, now())
    let held: Uint8Array | undefined
    try {
      const raw = await components.datastore.get(new Key(`${prefix}/${uint8ArrayToString(key, 'base32')}`, false), options)
      held = Libp2pRecord.deserialize(raw).value
    } catch {
      return // nothing held (or unreadable): nothing to compare with
    }
    if (Buffer.from(held).equals(Buffer.from(value))) return
    let heldSeq: number
    try {
      heldSeq = (await decodePresence(key, held)).seq
    } catch {
      return // what we hold is itself invalid: any valid record replaces it
    }
    if (record.seq <= heldSeq) throw new InvalidPresenceRecord(`sequence ${record.seq} is not greater than the ${heldSeq} already held`)
  }
}

export function checkExpiry (record: PresenceRecord, now: number): void {
  if (record.expires <= now) throw new InvalidPresenceRecord('expired')
  if (record.expires > now + MAX_PRESENCE_TTL_MS + CLOCK_SKEW_MS) throw new InvalidPresenceRecord('expiry too far in the future')
}

/** Chooses the record with the highest sequence number; unparseable ones lose. */
export const presenceSelector: SelectFn = (_key, records) => {
  let best = 0
  let bestSeq = -1
  records.forEach((r, i) => {
    const seq = peekSeq(r)
    if (seq > bestSeq) {
      best = i
      bestSeq = seq
    }
  })
  return best
}

// Records reaching the selector were validated already; this only orders them.
function peekSeq (value: Uint8Array): number {
  try {
    const outer = JSON.parse(Buffer.from(value).toString('utf8'))
    const p = JSON.parse(Buffer.from(outer.payload, 'base64').toString('utf8'))
    return Number.isSafeInteger(p.seq) ? p.seq : -1
  } catch {
    return -1
  }
}
