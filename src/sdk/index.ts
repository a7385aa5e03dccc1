/** sdk — what applications use: connect(user, service) → net.Socket, listen(service, handler), the local API client, and a private data directory and database per app. */
export { connect, type ConnectOptions } from './connect.js'
export { listen, type Listener, type Caller, type ConnectionHandler } from './listen.js'
export { LocalApiClient } from './api-client.js'
/** What the SDK rejects with: every error is a CspaceError with a stable `code` (docs/SDK.md); a refusal by the daemon or the other side is a LocalApiError. */
export { CspaceError } from '../errors.js'
export { LocalApiError, DaemonNotRunning } from '../daemon/errors.js'
export { IdentityMissing } from '../identity/errors.js'
export { locateDaemon, type SdkOptions, type DaemonEndpoint } from './daemon-locator.js'
export { appDataDir, appLayout, openAppStore, type AppStore } from './app-data.js'
/** Checking a user ID a person typed or pasted (its checksum catches typos): the form every app stores is `.text`. */
export { parseUserId, looksLikeUserId, type UserId } from '../identity/index.js'
/** The advice ending `connect`'s "is offline" error, for an app that retries by itself to leave out. */
export { TRY_WHEN_ONLINE } from '../session/session-errors.js'
/** A pending "may this caller use this service?" request, as `GET /v1/requests` lists it. */
export type { PromptRequest as PendingRequest } from '../session/index.js'
