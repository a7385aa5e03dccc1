/** The key file's passphrase, from CSPACE_PASSPHRASE (never from argv, where `ps` would show it). */
export function passphraseFromEnv (): string | undefined {
  const p = process.env.CSPACE_PASSPHRASE
  return p != null && p !== '' ? p : undefined
}
