/**
 * keyserver — find users' keys by username without trusting the server.
 * Every write is a SignedOperation appended to the name's hash-chained log
 * (operation.ts, name-log.ts: the rules both server and clients apply); the
 * server (server/, Fastify) stores them in SQLite or PostgreSQL (store/); the
 * client (client/) verifies every answer and what a contact's key pin says.
 */
export * from './errors.js'
export { validateUsername, usernameSkeleton } from './username.js'
export { parseOperation, signOperation, operationHash, displayNameProblem, type SignedOperation, type OperationKind } from './operation.js'
export { applyOperation, replayLog, emptyNameState, type NameState, type ReplayedLog, type KeyTenure } from './name-log.js'
export type { Entry } from './entry.js'
// the server (Fastify, its plugins, pg) is imported from server/run-key-server.js
// by `cspace keyserver` alone, so that no other command loads it
