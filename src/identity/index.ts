/** identity — the user's key pair, its file at rest, the shareable user ID and the voice-comparable fingerprint. */
export { createKeyFile, readKeyFile, readPublicKey, writeKeyFile, type KeyType } from './key-file.js'
export { parseUserId, userIdFromPublicKey, looksLikeUserId, USER_ID_PREFIX, type UserId } from './user-id.js'
export { fingerprint } from './fingerprint.js'
export { costlyKeyReason, MAX_RSA_EXPONENT_BITS } from './public-key.js'
export * from './errors.js'
