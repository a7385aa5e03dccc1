/** store — the profile directory ($CSPACE_HOME): paths, config, and the SQLite database. */
export { resolveHome, profilePaths, ensureHome, homeMadePrivateNote, appPaths, APP_NAME, type ProfilePaths } from './profile-paths.js'
export { Store, openStore, SCHEMA_VERSION } from './database.js'
export { loadConfig, saveConfig, updateConfig, parseConfig, defaultConfig, keyserverUrlProblem, addressListProblem, type Config } from './config.js'
export { getKv, setKv } from './kv.js'
export { ExposeTable, type ExposeRecord } from './exposes.js'
export { ForwardTable, type ForwardRecord } from './forwards.js'
export * from './errors.js'
