/** apps/files — file transfer (service `files`): `cspace send` on one side, the daemon's files host and `cspace receive`/`transfers` on the other. See docs/FILES.md. */
export { startFilesHost, FILES_SERVICE, type TransferView } from './host.js'
export { type OutgoingView } from './outbox.js'
export { sendFiles, RateMeter, type SendEvent, type SendOptions, type SendResult } from './sender.js'
export { TransferDeclined, ReceiverDiskFull, TransferRejected, TransferNotFound, TransferGaveUp, TransferCancelled, SourceUnreadable, WireError } from './errors.js'
export { sanitizePath, numberedName } from './names.js'
export { buildManifest, parseOffer, transferId, type Manifest } from './manifest.js'
export { FrameType, encodeFrame, encodeControl, encodeDataHeader, readFrames, WIRE_VERSION, DEFAULT_CHUNK, MAX_CONTROL_BYTES, MAX_SMALL_CONTROL_BYTES } from './wire.js'
export { fileDigest } from './partial.js'
