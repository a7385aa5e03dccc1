import { logger, type Logger } from '@libp2p/logger'

/**
 * A debug logger per component with a hierarchical prefix ('cspace:session:connect'),
 * silent unless enabled with DEBUG=cspace:* — the same switch as libp2p's own logs.
 */
export function componentLogger (name: string): Logger {
  return logger(`cspace:${name}`)
}
export type { Logger }
