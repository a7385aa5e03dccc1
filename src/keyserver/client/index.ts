/** keyserver/client — what a cspace user runs against a key server: lookups that verify, and key pins. */
export { KeyServerClient, verifyEntry, type VerifiedEntry } from './key-server-client.js'
export { checkPin, type KeyPin, type PinCheck } from './key-pin.js'
export { addContactFromKeyServer, verifyPinnedContact, type PinVerdict, type UseBook } from './contact-pins.js'
