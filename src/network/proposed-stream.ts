import { StreamMessageEvent, type AbortOptions, type Connection, type PeerId, type Stream, type StreamMuxer } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * A stream whose multistream-select proposal is sent but not yet answered:
 * the connect protocol on a connection with no spare stream (a first contact,
 * mostly), and every DHT request (proposeDhtStreams).
 *
 * libp2p 3's `newStream` waits for the remote to confirm the protocol before
 * it returns a stream, a round trip before the service request can leave.
 * Here the proposal, the request and any early bytes leave in one flight
 * (multistream-select's "lazy" initiator, as go-libp2p does for a single
 * protocol), and the remote's confirmation is read in front of its response
 * (`negotiationAnswer`, or stripNegotiationAnswer for a reader that does not
 * know of it). The remote runs the plain multistream-select handler: nothing
 * changes on the wire but the waiting.
 *
 * It opens the stream on the connection's muxer, a field libp2p does not
 * type as public; where that is gone (a libp2p release), it returns
 * undefined and the caller falls back to `newStream`.
 */
export async function openProposedStream (connection: Connection, protocol: string, maxOutbound: number, signal?: AbortSignal): Promise<Stream | undefined> {
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

/**
 * How much of the remote's confirmation `head` holds: all of it, a correct
 * start so far, or bytes that are not it (`na`, or anything else).
 */
export function answerProgress (head: Uint8ArrayList, expected: Uint8Array): 'whole' | 'partial' | 'wrong' {
  const n = Math.min(head.byteLength, expected.byteLength)
  for (let i = 0; i < n; i++) {
    if (head.get(i) !== expected[i]) return 'wrong'
  }
  return n < expected.byteLength ? 'partial' : 'whole'
}

/**
 * For a stream from openProposedStream handed to a reader that expects only
 * the protocol's own bytes: takes the remote's confirmation off the front of
 * what arrives, before any other 'message' listener sees it (this listener
 * is the stream's first, and stops the event for the others until the
 * confirmation is whole). A remote that answers anything else (`na`: it does
 * not speak the protocol) aborts the stream, and its reader gets that error.
 */
export function stripNegotiationAnswer (stream: Stream, protocol: string): void {
  const expected = negotiationAnswer(protocol)
  const head = new Uint8ArrayList()
  const onMessage = (evt: StreamMessageEvent): void => {
    evt.stopImmediatePropagation()
    head.append(evt.data)
    const progress = answerProgress(head, expected)
    if (progress === 'partial') return
    stream.removeEventListener('message', onMessage)
    if (progress === 'wrong') {
      stream.abort(new Error(`the remote does not offer ${protocol}`))
      return
    }
    const rest = head.sublist(expected.byteLength)
    if (rest.byteLength === 0) return
    // to the reader now if it listens, else kept for it (libp2p dispatches
    // a stream's buffered bytes when a 'message' listener is added)
    if (stream.listenerCount('message') > 0) stream.dispatchEvent(new StreamMessageEvent(rest))
    else stream.unshift(rest)
  }
  stream.addEventListener('message', onMessage)
}

/** The part of libp2p's connection manager that opens protocol streams (kad-dht's way to send a request). */
interface StreamOpener {
  openConnection: (peer: PeerId, options?: AbortOptions) => Promise<Connection>
  openStream: (peer: PeerId, protocol: string | string[], options?: AbortOptions & { runOnLimitedConnection?: boolean }) => Promise<Stream>
}

/** libp2p's default cap on a protocol's outbound streams per connection. */
const DEFAULT_MAX_OUTBOUND_STREAMS = 64

/**
 * Every DHT request proposes its protocol in the request's own flight: a
 * request is then one round trip, not two (kad-dht opens a stream per
 * request, and libp2p 3's `newStream` waits for the remote's confirmation
 * before the request can leave). A presence lookup is a few such requests
 * in sequence, so on a real network this is a round trip less per hop.
 *
 * kad-dht opens its streams through the connection manager, a component
 * libp2p does not expose; where it is gone (a libp2p release), requests
 * negotiate as before. Limited (relayed) connections keep libp2p's own path,
 * which refuses them unless asked.
 */
export function proposeDhtStreams (node: object, protocol: string, onStream: (stream: Stream) => void = () => {}, maxOutbound = DEFAULT_MAX_OUTBOUND_STREAMS): void {
  const opener = (node as { components?: { connectionManager?: Partial<StreamOpener> } }).components?.connectionManager
  if (opener?.openStream == null || opener.openConnection == null) return
  const openStream = opener.openStream.bind(opener)
  const openConnection = opener.openConnection.bind(opener)
  opener.openStream = async (peer, protocols, options = {}) => {
    const single = Array.isArray(protocols) ? (protocols.length === 1 ? protocols[0] : undefined) : protocols
    if (single !== protocol) return await openStream(peer, protocols, options)
    const connection = await openConnection(peer, options)
    if (connection.limits != null) return await connection.newStream(protocols, options)
    const stream = await openProposedStream(connection, protocol, maxOutbound, options.signal)
    if (stream == null) return await connection.newStream(protocols, options)
    stripNegotiationAnswer(stream, protocol)
    onStream(stream)
    return stream
  }
}
