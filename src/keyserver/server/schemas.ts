/**
 * JSON schemas of the HTTP API (v1). Fastify validates requests with them
 * (unknown fields refused) and @fastify/swagger turns them into the OpenAPI
 * document at /openapi.json. parseOperation repeats the operation checks in
 * code, because clients must apply them to what a server returns as well.
 */
const userId = { type: 'string', pattern: '^cs1[a-z2-7]+$', maxLength: 1200, description: 'a cspace user ID (`cspace id`), which carries the whole public key' }
const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]+={0,2}$', maxLength: 1024 }
export const usernamePattern = '^[a-z0-9][a-z0-9._-]{1,30}[a-z0-9]$'

export const operationSchema = {
  $id: 'SignedOperation',
  type: 'object',
  description: 'A write signed by the key(s) it names; also an entry of a name\'s change log (a hash chain through `prev`).',
  additionalProperties: false,
  required: ['v', 'op', 'username', 'key', 'displayName', 'timestamp', 'nonce', 'prev', 'signature'],
  properties: {
    v: { type: 'integer', enum: [1] },
    op: { type: 'string', enum: ['register', 'update', 'rotate', 'delete'] },
    username: { type: 'string', pattern: usernamePattern },
    key: { ...userId, description: 'the key that holds the name after this operation (for delete: the key that held it)' },
    oldKey: { ...userId, description: 'rotate only: the key that held the name before' },
    displayName: { type: 'string', maxLength: 128 },
    timestamp: { type: 'integer', minimum: 0, description: 'milliseconds since the epoch; the server refuses one more than 5 minutes from its clock' },
    nonce: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'fresh for every operation; the server refuses one it has seen' },
    prev: { type: 'string', pattern: '^([0-9a-f]{64})?$', description: 'sha256 of the previous log entry, empty for the first' },
    signature: { ...base64, description: 'by `key`, over "cspace-keyserver/1 " + JSON [v, op, username, key, oldKey or "", displayName, timestamp, nonce, prev]' },
    oldSignature: { ...base64, description: 'rotate only: by `oldKey`, over the same bytes' }
  }
} as const

export const entrySchema = {
  $id: 'Entry',
  type: 'object',
  description: 'A username\'s current state, with the log entry that made it so (verifiable on its own).',
  required: ['username', 'key', 'fingerprint', 'displayName', 'seq', 'updatedAt', 'operation'],
  properties: {
    username: { type: 'string' },
    key: { type: ['string', 'null'], description: 'null once deleted' },
    fingerprint: { type: ['string', 'null'], description: 'six groups of five digits, as `cspace id` prints' },
    displayName: { type: 'string' },
    seq: { type: 'integer', description: 'entries in the name\'s log' },
    updatedAt: { type: 'integer' },
    operation: { $ref: 'SignedOperation#' }
  }
} as const

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } }
} as const

// query strings are text: bodies are validated without type coercion, so numbers here are digit strings
const digits = { type: 'string', pattern: '^[0-9]{1,9}$' } as const
const errors = (...codes: number[]): Record<number, unknown> => Object.fromEntries(codes.map(c => [c, { $ref: 'Error#' }]))
const usernameParams = { type: 'object', required: ['username'], properties: { username: { type: 'string', maxLength: 64 } } } as const

export const routeSchemas = {
  health: {
    summary: 'Liveness and store check',
    response: { 200: { type: 'object', properties: { status: { type: 'string' }, store: { type: 'string' } } }, 503: { $ref: 'Error#' } }
  },
  append: {
    summary: 'Register, update, rotate or delete: append a signed operation to the name\'s log',
    params: usernameParams,
    body: { $ref: 'SignedOperation#' },
    response: { 200: { $ref: 'Entry#' }, 201: { $ref: 'Entry#' }, ...errors(400, 403, 404, 409, 413, 415, 429) }
  },
  lookup: {
    summary: 'Look up a username',
    params: usernameParams,
    response: { 200: { $ref: 'Entry#' }, ...errors(400, 404, 410, 429) }
  },
  log: {
    summary: 'A name\'s change log, oldest first, a page at a time',
    params: usernameParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { from: { ...digits, description: 'first sequence number (default 0)' }, limit: { ...digits, description: 'at most this many, 1-200 (default 100)' } }
    },
    response: {
      200: { type: 'object', required: ['operations', 'next'], properties: { operations: { type: 'array', items: { $ref: 'SignedOperation#' } }, next: { type: ['integer', 'null'] } } },
      ...errors(400, 404, 429)
    }
  },
  search: {
    summary: 'Live usernames starting with a prefix, in byte order, a page at a time',
    querystring: {
      type: 'object',
      additionalProperties: false,
      required: ['prefix'],
      properties: {
        prefix: { type: 'string', minLength: 1, maxLength: 32 },
        after: { type: 'string', pattern: '^[a-z0-9._-]{0,32}$', default: '', description: 'the `next` of the previous page' },
        limit: { ...digits, description: 'at most this many, 1-100 (default 20)' }
      }
    },
    response: {
      200: { type: 'object', required: ['users', 'next'], properties: { users: { type: 'array', items: { $ref: 'Entry#' } }, next: { type: ['string', 'null'] } } },
      ...errors(400, 429)
    }
  },
  byFingerprint: {
    summary: 'The username held by a key, by the key\'s fingerprint (30 digits, no spaces)',
    params: { type: 'object', required: ['fingerprint'], properties: { fingerprint: { type: 'string', pattern: '^[0-9]{30}$' } } },
    response: {
      200: { type: 'object', required: ['users'], properties: { users: { type: 'array', items: { $ref: 'Entry#' } } } },
      ...errors(400, 404, 429)
    }
  }
} as const
