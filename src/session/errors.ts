import { CspaceError, UsageError } from '../errors.js'

export class InvalidRule extends UsageError {
  constructor (why: string) {
    super(`invalid rule: ${why}; a rule is ACTION WHO SERVICE, e.g. "allow bob ssh", "prompt contacts desktop", "deny anyone *"`, 'INVALID_RULE')
  }
}

export class InvalidServiceName extends UsageError {
  constructor (name: string) {
    super(`"${name.slice(0, 80)}" is not a service name: use 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit`, 'INVALID_SERVICE_NAME')
  }
}

export class PromptNotFound extends CspaceError {
  constructor (id: string) {
    super('PROMPT_NOT_FOUND', `no pending request ${id}; see \`cspace requests\``, 2)
  }
}

export class ServiceTaken extends CspaceError {
  constructor (service: string, offeredBy: string) {
    super('SERVICE_TAKEN', `the service "${service}" is already offered here, by ${offeredBy}; choose another name, or end that one first`, 1)
  }
}

export class OwnUserIdTarget extends UsageError {
  constructor () {
    super('that is your own user ID: cspace connects you to other users; reach your own services on this machine directly', 'OWN_USER_ID')
  }
}
