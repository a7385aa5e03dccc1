import { enabled, logger, type Logger } from '@libp2p/logger'
import type { ComponentLogger } from '@libp2p/interface'

/**
 * A debug logger per component with a hierarchical prefix ('cspace:session:connect'),
 * silent unless enabled with DEBUG=cspace:* — the same switch as libp2p's own logs.
 */
export function componentLogger (name: string): Logger {
  return scopedLogger(`cspace:${name}`)
}

/**
 * The loggers libp2p gets (createLibp2p's `logger`). libp2p makes two new
 * loggers for every stream (yamux's and multistream-select's scopes), and each
 * real one asks the kernel whether stderr is a terminal, five system calls,
 * twice: on a warm connect that was eight isatty() calls on the critical path
 * across the two daemons. A disabled namespace gets a no-op logger instead,
 * whose scopes are checked again, so DEBUG=libp2p:yamux:* still works.
 */
export const libp2pLogger: ComponentLogger = { forComponent: scopedLogger }

function scopedLogger (name: string): Logger {
  // Namespaces are enabled once, from DEBUG at start; nothing turns them on later.
  if (enabled(name) || enabled(`${name}:error`) || enabled(`${name}:trace`)) return logger(name)
  return silentLogger(name)
}

function silentLogger (name: string): Logger {
  const log = (): void => {}
  log.error = (): void => {}
  log.trace = (): void => {}
  log.enabled = false
  log.newScope = (scope: string): Logger => scopedLogger(`${name}:${scope}`)
  return log
}

export type { Logger }
