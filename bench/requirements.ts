/**
 * The programs each bench suite runs, checked before any suite starts: a
 * missing one otherwise shows up minutes in, as a spawn error deep in a suite.
 * (The desktop suite is left out: it skips itself without Xvfb and x11vnc.)
 */
import { existsSync } from 'node:fs'

interface Tool { name: string, debianPackage: string }

const SSH_ANCHORS: Tool[] = [{ name: 'sshd', debianPackage: 'openssh-server' }, { name: 'ssh', debianPackage: 'openssh-client' }]

const TOOLS_BY_SUITE: Record<string, Tool[]> = {
  footprint: SSH_ANCHORS,
  throughput: [...SSH_ANCHORS, { name: 'iperf3', debianPackage: 'iperf3' }, { name: 'socat', debianPackage: 'socat' }],
  files: [...SSH_ANCHORS, { name: 'scp', debianPackage: 'openssh-client' }, { name: 'socat', debianPackage: 'socat' }],
  latency: SSH_ANCHORS,
  loaded: [...SSH_ANCHORS, { name: 'socat', debianPackage: 'socat' }, { name: 'tc', debianPackage: 'iproute2' }, { name: 'ss', debianPackage: 'iproute2' }],
  busy: SSH_ANCHORS,
  chat: SSH_ANCHORS,
  desktop: SSH_ANCHORS,
  keyserver: [{ name: 'postgres', debianPackage: 'postgresql' }]
}

/** Where to look: the PATH's directories (and sbin, where sshd lives), and PostgreSQL's versioned binaries. */
export interface ToolSearch { dirs: string[], postgresRoot: string }

const SYSTEM_SEARCH: ToolSearch = {
  dirs: [...(process.env.PATH ?? '').split(':').filter(d => d !== ''), '/usr/sbin', '/usr/bin'],
  postgresRoot: '/usr/lib/postgresql'
}

function installed (tool: Tool, where: ToolSearch): boolean {
  // the bench runs a private PostgreSQL from its binaries, which are not on the PATH
  if (tool.name === 'postgres') return existsSync(where.postgresRoot)
  return where.dirs.some(d => existsSync(`${d}/${tool.name}`))
}

/** One line naming what is missing for these suites and how to install it, or undefined when nothing is. */
export function missingToolsMessage (suites: Iterable<string>, where: ToolSearch = SYSTEM_SEARCH): string | undefined {
  const missing = new Map<string, Tool>()
  for (const suite of suites) {
    for (const tool of TOOLS_BY_SUITE[suite] ?? []) if (!installed(tool, where)) missing.set(tool.name, tool)
  }
  if (missing.size === 0) return undefined
  const packages = [...new Set([...missing.values()].map(t => t.debianPackage))]
  return `${[...missing.keys()].join(', ')} not installed; on Debian: apt-get install ${packages.join(' ')} (or run fewer suites with --only)`
}
