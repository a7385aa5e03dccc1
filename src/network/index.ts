/** network — the libp2p node (TCP, TLS 1.3, yamux, Kademlia on a private protocol) and presence in the DHT. */
export { createNetworkNode, relayedBytes, cspaceDhtInit, DHT_PROTOCOL, type NetworkNode, type NetworkInit } from './node.js'
export { encodePresence, decodePresence, presenceKey, MAX_PRESENCE_BYTES, type PresenceRecord } from './presence-record.js'
export { presenceValidator, presenceSelector, MAX_PRESENCE_TTL_MS } from './presence-validator.js'
export { PresencePublisher, type PublishResult } from './presence-publisher.js'
export { PresenceResolver, EARLY_QUORUM } from './presence-resolver.js'
export * from './errors.js'
export { DEFAULT_RELAY_LIMITS, isRelayed, type RelayLimits } from './relay.js'
export { REACHABILITY_PROTOCOL, ReachabilityService, parseRequest as parseReachabilityRequest, parseAnswer as parseReachabilityAnswer, type Reachability } from './reachability.js'
