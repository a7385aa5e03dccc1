import { CspaceError } from '../errors.js'
import { ConnectStatus } from './connect-status.js'

/** The peer broke the connect protocol (bad frame, wrong version, truncated). */
export class ProtocolViolation extends CspaceError {
  readonly status: ConnectStatus
  constructor (message: string, status: ConnectStatus = ConnectStatus.BadRequest) {
    super('PROTOCOL_VIOLATION', message)
    this.status = status
  }
}

/** What UserOffline's message ends with: advice for a person, which a caller that retries by itself leaves out. */
export const TRY_WHEN_ONLINE = '; try again when they are online'

/** No usable presence: the user is offline or was never seen online. */
export class UserOffline extends CspaceError {
  constructor (who: string, detail: string) {
    super('USER_OFFLINE', `${who} is offline (${detail})${TRY_WHEN_ONLINE}`)
  }
}

/** Presence was found but none of the addresses could be dialled (or the key did not match). */
export class UserUnreachable extends CspaceError {
  constructor (who: string, detail: string) {
    super('USER_UNREACHABLE', `cannot reach ${who}: ${detail}`)
  }
}

/**
 * The message of a NotAllowed refusal when the callee's user was asked and
 * gave no answer in time: not a "no", so callers that would give up on a "no"
 * (the chat app's queue) may ask again later.
 */
export const NO_ANSWER = 'no answer'

/** The remote daemon answered the service request with a refusal. */
export class ServiceRefused extends CspaceError {
  readonly status: ConnectStatus
  constructor (who: string, service: string, status: ConnectStatus, message: string) {
    const unanswered = status === ConnectStatus.NotAllowed && message === NO_ANSWER
    super(unanswered ? 'NOT_ANSWERED' : REFUSAL_CODES[status] ?? 'SERVICE_REFUSED', unanswered ? `${who} did not answer whether you may use "${service}"; try again later, or ask them` : describe(who, service, status, message))
    this.status = status
  }
}

const REFUSAL_CODES: Partial<Record<ConnectStatus, string>> = {
  [ConnectStatus.NoSuchService]: 'NO_SUCH_SERVICE',
  [ConnectStatus.NotAllowed]: 'NOT_ALLOWED',
  [ConnectStatus.ServiceUnreachable]: 'SERVICE_UNREACHABLE',
  [ConnectStatus.Busy]: 'BUSY'
}

function describe (who: string, service: string, status: ConnectStatus, message: string): string {
  const extra = message !== '' ? ` (${message})` : ''
  switch (status) {
    case ConnectStatus.NoSuchService: return `${who} has no service "${service}"${extra}; ask them which services they expose`
    case ConnectStatus.NotAllowed: return `${who} did not allow you to use "${service}"${extra}; ask them to allow it`
    case ConnectStatus.ServiceUnreachable: return `${who}'s service "${service}" is not answering on their side${extra}; ask them to check it is running`
    case ConnectStatus.Busy: return `${who}'s daemon is too busy${extra}; try again shortly`
    default: return `${who} refused the request for "${service}": ${ConnectStatus[status]}${extra}`
  }
}
