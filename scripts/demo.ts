/**
 * A local demo of cspace on one machine: a router and two users, alice and
 * bob, each with their own profile and daemon. Bob offers a tiny "hello"
 * service; alice reaches it by bob's contact name through `cspace forward`.
 * Every step is a real `cspace` command, printed as it runs.
 */
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from 'node:net'

const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/cspace.js')
const root = mkdtempSync(join(tmpdir(), 'cspace-demo-'))
const procs: ReturnType<typeof spawn>[] = []

function cspace (who: string, args: string[]): string {
  process.stdout.write(`\n[${who}] $ cspace ${args.join(' ')}\n`)
  const out = execFileSync(process.execPath, [bin, ...args], { env: { ...process.env, CSPACE_HOME: join(root, who) }, encoding: 'utf8' })
  process.stdout.write(out.replace(/^/gm, '  '))
  return out
}

async function daemon (who: string, args: string[]): Promise<string[]> {
  process.stdout.write(`\n[${who}] $ cspace daemon ${args.join(' ')} &\n`)
  const p = spawn(process.execPath, [bin, 'daemon', ...args], { env: { ...process.env, CSPACE_HOME: join(root, who) }, stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(p)
  let out = ''
  let err = ''
  return await new Promise((resolve, reject) => {
    p.stdout.on('data', (b: Buffer) => { out += b.toString() })
    let ready = false
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      if (!ready && err.includes('running')) {
        ready = true
        process.stdout.write(out.replace(/^/gm, '  '))
        resolve(out.trim().split('\n'))
      }
    })
    p.once('exit', (code) => reject(new Error(`${who}'s daemon exited (${code}): ${err}`)))
  })
}

const lan = JSON.stringify({ listen: ['/ip4/127.0.0.1/tcp/0'], network: { allowPrivateAddresses: true, inboundConnectionsPerIpPerSecond: 100 } })
try {
  for (const who of ['router', 'alice', 'bob']) {
    cspace(who, ['init'])
    writeFileSync(join(root, who, 'config.json'), lan) // a loopback network: keep 127.0.0.1 addresses
  }
  const [routerAddr] = await daemon('router', ['--router'])
  const aliceId = cspace('alice', ['id']).split('\n')[0]
  const bobId = cspace('bob', ['id']).split('\n')[0]
  cspace('alice', ['contacts', 'add', 'bob', bobId])
  cspace('bob', ['contacts', 'add', 'alice', aliceId])
  cspace('bob', ['expose', 'hello', '--exec', 'echo "hello $CSPACE_CALLER_NAME, this is bob\'s machine"; cat'])
  await daemon('bob', ['--bootstrap', routerAddr])
  await daemon('alice', ['--bootstrap', routerAddr])
  const port = Number(cspace('alice', ['forward', '0', 'bob', 'hello']).trim())
  process.stdout.write(`\n[alice] any TCP program can now use 127.0.0.1:${port}; sending a line:\n`)
  const reply = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end('ping from alice\n'))
    let got = ''
    s.on('data', (b: Buffer) => { got += b.toString() })
    s.on('end', () => resolve(got))
    s.on('error', reject)
  })
  process.stdout.write(reply.replace(/^/gm, '  '))
  cspace('alice', ['status'])
  process.stdout.write('\ndemo finished: stopping the daemons\n')
} finally {
  await Promise.all(procs.map(async (p) => {
    if (p.exitCode != null) return
    const exited = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGTERM')
    await exited
  }))
  rmSync(root, { recursive: true, force: true })
}
