/** sdk — what applications use: connect(user, service) → net.Socket, listen(service, handler), and the local API client. */
export { connect } from './connect.js'
export { listen, type Listener, type Caller, type ConnectionHandler } from './listen.js'
export { LocalApiClient } from './api-client.js'
export { locateDaemon, type SdkOptions, type DaemonEndpoint } from './daemon-locator.js'
