/** daemon — the long-running process per profile: node, store, local API, application port, forwards and exposes. */
export { Daemon, type DaemonOptions } from './daemon.js'
export { readDaemonInfo, readApiToken, type DaemonInfo } from './daemon-info.js'
export * from './errors.js'
