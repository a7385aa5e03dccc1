import { CspaceError } from '../errors.js'

export class DaemonAlreadyRunning extends CspaceError {
  constructor (home: string, pid: number) {
    super('DAEMON_RUNNING', `a daemon (pid ${pid}) is already running for the profile ${home}; stop it first, or use another CSPACE_HOME`)
  }
}

export class DaemonNotRunning extends CspaceError {
  constructor (home: string) {
    super('DAEMON_NOT_RUNNING', `no daemon is running for the profile ${home}; start one with \`cspace daemon\``)
  }
}

/** A request to the local API or the application port was refused. */
export class LocalApiError extends CspaceError {
  constructor (code: string, message: string, exitCode: 1 | 2 = 1) {
    super(code, message, exitCode)
  }
}

/** The port already forwards elsewhere: replacing it would cut off its sessions. */
export class PortForwarded extends CspaceError {
  constructor (port: number, target: string) {
    super('PORT_FORWARDED', `local port ${port} already forwards to ${target}; remove that first (cspace forward --remove ${port}) or pick another port`, 2)
  }
}

export class PortInUse extends CspaceError {
  constructor (port: number) {
    super('PORT_IN_USE', `local port ${port} is already in use; pick another port (or 0 for any free one)`, 2)
  }
}

export class ForwardNotFound extends CspaceError {
  constructor (port: number) {
    super('FORWARD_NOT_FOUND', `no forward on local port ${port}; see \`cspace status\``, 2)
  }
}

export class ExposeNotFound extends CspaceError {
  constructor (service: string) {
    super('EXPOSE_NOT_FOUND', `service "${service}" is not exposed; see \`cspace status\``, 2)
  }
}

/** A command per session (`expose --exec`) is set up from a terminal, never from the web UI. */
export class ExecFromBrowser extends CspaceError {
  constructor () {
    super('FORBIDDEN_EXEC', 'a service that runs a command is set up from a terminal: cspace expose SERVICE --exec CMD')
  }
}

export class ApiPortInUse extends CspaceError {
  constructor (port: number) {
    super('API_PORT_IN_USE', `the local API's port ${port} is already in use; pick another with --api-port (or drop apiPort from config.json for any free one)`, 2)
  }
}

/** libp2p could not listen on a configured address (in use, or not on this machine). */
export class ListenFailed extends CspaceError {
  constructor (addresses: string[]) {
    super('LISTEN_FAILED', `cannot listen on ${addresses.join(', ')}: the port is in use or the address is not on this machine; pick another with --listen (or "listen" in config.json)`, 2)
  }
}
