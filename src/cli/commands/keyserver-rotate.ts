import { existsSync, renameSync, rmSync } from 'node:fs'
import type { PrivateKey } from '@libp2p/interface'
import { CspaceError, UsageError } from '../../errors.js'
import { createKeyFile, fingerprint, readKeyFile, userIdFromPublicKey, type KeyType } from '../../identity/index.js'
import { KeyServerError, operationHash, signOperation, type SignedOperation } from '../../keyserver/index.js'
import type { KeyServerClient } from '../../keyserver/client/index.js'
import { ProfileLock } from '../../daemon/profile-lock.js'
import { DaemonAlreadyRunning } from '../../daemon/errors.js'
import type { ProfilePaths } from '../../store/index.js'
import { confirmWrite, ownEntry, profileKey } from '../keyserver-access.js'
import { cliProfile, passphraseFromEnv } from '../profile.js'

/**
 * `cspace keyserver rotate`. The new key is written beside the old one
 * (identity.key.new) before the server hears of it, and takes the old one's
 * place (kept as identity.key.old-TIME) only once the name's log says the
 * server took the rotation. The new key is deleted only when the server
 * refused for certain; when the answer was lost (a timeout, a proxy's 502)
 * it is kept, and the next `rotate` finishes the job from the log.
 */
export async function rotateProfileKey (client: KeyServerClient, keyType: KeyType): Promise<void> {
  const paths = cliProfile()
  // the daemon's lock: a running daemon would go on serving the old key, and none may start midway
  let lock: ProfileLock
  try {
    lock = ProfileLock.acquire(paths.lock, paths.home)
  } catch (err) {
    if (err instanceof DaemonAlreadyRunning) throw new UsageError(`${err.message.split(';')[0]}; stop it before rotating the key, then start it again`, 'DAEMON_RUNNING')
    throw err
  }
  try {
    await rotateLocked(client, keyType, paths)
  } finally {
    lock.release()
  }
}

async function rotateLocked (client: KeyServerClient, keyType: KeyType, paths: ProfilePaths): Promise<void> {
  const pending = `${paths.keyFile}.new`
  const oldKey = profileKey()
  if (existsSync(pending)) {
    // an earlier rotation whose outcome was not known: the log says what happened
    const newKey = readKeyFile(pending, passphraseFromEnv())
    const username = await landedFor(client, newKey)
    if (username != null) { finish(paths, pending, newKey, username); return }
    rmSync(pending, { force: true })
  }
  const mine = await ownEntry(client, oldKey)
  const newKey = await createKeyFile(pending, keyType, passphraseFromEnv())
  const newId = userIdFromPublicKey(newKey.publicKey).text
  let op: SignedOperation | undefined
  try {
    op = await signOperation({ op: 'rotate', username: mine.username, key: newId, oldKey: mine.key, displayName: mine.displayName, prev: operationHash(mine.operation) }, newKey, oldKey)
    await confirmWrite(client, op, await client.submit(op))
  } catch (err) {
    const refused = err instanceof KeyServerError && err.status >= 400 && err.status < 500 && err.code !== 'KEYSERVER_ANSWER_INVALID'
    if (refused || op == null) { rmSync(pending, { force: true }); throw err }
    const landed = await landedFor(client, newKey).catch(() => undefined)
    if (landed == null) {
      throw new CspaceError('ROTATION_UNCONFIRMED', `the key server did not confirm the rotation (${(err as Error).message.split('\n')[0]}); the new key is kept in ${pending}: run \`cspace keyserver rotate\` again to finish or undo it`)
    }
  }
  finish(paths, pending, newKey, mine.username)
}

/** The username whose log now ends on this key, if the rotation reached the server. */
async function landedFor (client: KeyServerClient, key: PrivateKey): Promise<string | undefined> {
  try {
    return (await ownEntry(client, key)).username
  } catch (err) {
    if ((err as { code?: string }).code === 'NOT_REGISTERED') return undefined
    throw err
  }
}

function finish (paths: ProfilePaths, pending: string, newKey: PrivateKey, username: string): void {
  const kept = `${paths.keyFile}.old-${new Date().toISOString().replace(/[:.]/g, '-')}`
  renameSync(paths.keyFile, kept)
  renameSync(pending, paths.keyFile)
  const id = userIdFromPublicKey(newKey.publicKey).text
  process.stdout.write(`${id}\nfingerprint: ${fingerprint(newKey.publicKey)}\n`)
  process.stderr.write(`rotated ${username} to a new key; the old key is kept in ${kept}. ` +
    'Contacts who added you from the key server see the signed change with `cspace contacts verify`; give others your new ID.\n')
}
