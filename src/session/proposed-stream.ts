import type { Connection, Stream, StreamMuxer } from '@libp2p/interface'

/**
 * A stream whose multistream-select proposal is sent but not yet answered,
 * for a connection with no spare connect stream (a first contact, mostly).
 *
 * libp2p 3's `newStream` waits for the remote to confirm the protocol before
 * it returns a stream, a round trip before the service request can leave.
 * Here the proposal, the request and any early bytes leave in one flight
 * (multistream-select's "lazy" initiator, as go-libp2p does for a single
 * protocol), and the remote's confirmation is read in front of its response
 * (`negotiationAnswer`). The remote runs the plain multistream-select handler:
 * nothing changes on the wire but the waiting.
 *
 * It opens the stream on the connection's muxer, a field libp2p does not
 * type as public; where that is gone (a libp2p release), it returns
 * undefined and the caller falls back to `newStream`.
 */
export async function openProposedStream (connection: Connection, protocol: string, maxOutbound: number, signal: AbortSignal): Promise<Stream | undefined> {
  const muxer = (connection as unknown as { muxer?: StreamMuxer }).muxer
  if (muxer == null || typeof muxer.createStream !== 'function' || muxer.status !== 'open' || connection.status !== 'open') return undefined
  // libp2p's own per-protocol cap, which newStream would have checked
  const outbound = connection.streams.filter(s => s.protocol === protocol && s.direction === 'outbound').length
  if (outbound >= maxOutbound) return undefined
  const stream = await muxer.createStream({ signal })
  stream.protocol = protocol
  stream.send(negotiationProposal(protocol))
  return stream
}

/** multistream-select 1.0.0's header (github.com/multiformats/multistream-select). */
const MULTISTREAM_ID = '/multistream/1.0.0'

/** What the initiator sends: the multistream header and the protocol, each length-prefixed. */
export function negotiationProposal (protocol: string): Uint8Array {
  return Buffer.concat([lengthPrefixed(`${MULTISTREAM_ID}\n`), lengthPrefixed(`${protocol}\n`)])
}

/** What a remote that speaks `protocol` answers to the proposal: the same bytes. */
export function negotiationAnswer (protocol: string): Uint8Array {
  return negotiationProposal(protocol)
}

/** Protocol ids here are short constants: a one-byte varint length. */
function lengthPrefixed (text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length > 127) throw new Error(`protocol id too long for a one-byte length: ${text}`)
  return Buffer.concat([Buffer.from([bytes.length]), bytes])
}
