import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { tempDir } from './files.js'
import { waitFor, waitPort } from './wait.js'
import { inNamespace, listeningInNs } from './netns.js'

export interface Sshd { port: number, clientKey: string, knownHosts: string, dir: string, stop: () => Promise<void> }

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort (): Promise<number> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}

/**
 * A real OpenSSH server on 127.0.0.1 with its own host key and one client key,
 * run in the foreground (-D) from a temporary directory; no system config touched.
 * With `netns`, it runs in that network namespace, on `address` port 22.
 */
export async function startSshd (opts: { netns?: string, address?: string } = {}): Promise<Sshd> {
  const dir = tempDir('cspace-sshd-')
  const hostKey = join(dir, 'host_ed25519')
  const clientKey = join(dir, 'client_ed25519')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey])
  const authorized = join(dir, 'authorized_keys')
  execFileSync('cp', [`${clientKey}.pub`, authorized])
  chmodSync(authorized, 0o600)
  mkdirSync('/run/sshd', { recursive: true }) // privilege separation directory sshd insists on
  const port = opts.netns != null ? 22 : await freePort()
  const config = join(dir, 'sshd_config')
  writeFileSync(config, [
    `Port ${port}`, `ListenAddress ${opts.address ?? '127.0.0.1'}`, `HostKey ${hostKey}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorized}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password', 'StrictModes no', 'UsePAM no', 'LogLevel ERROR', 'Subsystem sftp internal-sftp'
  ].join('\n') + '\n')
  const sshdPath = ['/usr/sbin/sshd', '/usr/bin/sshd'].find(p => { try { execFileSync('test', ['-x', p]); return true } catch { return false } }) ?? 'sshd'
  const proc: ChildProcess = spawn(...inNamespace(opts.netns, sshdPath, ['-D', '-e', '-f', config]), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  if (opts.netns != null) await waitFor(`sshd listening in ${opts.netns} (${stderr})`, async () => await listeningInNs(opts.netns as string, port), 10_000, 50)
  else await waitPort(port, `sshd listening on ${port} (${stderr})`)
  const knownHosts = join(dir, 'known_hosts')
  writeFileSync(knownHosts, '')
  return {
    port,
    clientKey,
    knownHosts,
    dir,
    stop: async () => {
      if (proc.exitCode == null) { proc.kill('SIGTERM'); await once(proc, 'exit') }
    }
  }
}
