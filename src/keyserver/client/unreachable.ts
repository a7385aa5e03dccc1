import { printable } from '../../util/printable.js'

/** Certificate errors Node's TLS reports: the server is there, its certificate is not trusted. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_REVOKED'
])

/**
 * Why a request to a key server got no answer, in words that say what to
 * check: fetch reports only a code (ECONNREFUSED, ENOTFOUND, a TLS code)
 * in its error's cause.
 */
export function unreachableReason (err: unknown, url: string, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string, message?: string } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s; check the URL, and that the key server runs`
  const code = e.cause?.code ?? ''
  const https = url.startsWith('https:')
  switch (code) {
    case 'ECONNREFUSED': return 'nothing answers at that address (connection refused); check the URL, and that the key server runs'
    case 'ENOTFOUND': return `the host ${hostOf(url)} is not known (DNS); check the URL`
    case 'EAI_AGAIN': return `the host ${hostOf(url)} could not be looked up (DNS did not answer); check your network`
    case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': return 'the connection timed out; check the URL and your network'
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'that address cannot be reached from here; check the URL and your network'
    case 'ECONNRESET': case 'UND_ERR_SOCKET': case 'UND_ERR_CLOSED':
      return https
        ? 'the connection was closed before an answer; check the URL'
        : 'the connection was closed before an answer; is it an https:// server (or not a web server at all)? check the URL'
  }
  if (CERTIFICATE_CODES.has(code)) return `its TLS certificate is not trusted (${code}); give the server a certificate from a known CA, or trust its CA with NODE_EXTRA_CA_CERTS=FILE`
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS failed (${code}); if the server speaks plain HTTP, use an http:// URL`
  const detail = printable(e.cause?.message ?? e.message).slice(0, 120)
  return code !== '' && !detail.includes(code) ? `${code}: ${detail}` : detail
}

function hostOf (url: string): string {
  try { return new URL(url).hostname } catch { return url }
}
