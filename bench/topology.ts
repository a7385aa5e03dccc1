import { makeProfile, runCli, startDaemon, startTwoUsers, type Profile, type RunningDaemon } from '../test/helpers/cli.js'

const USERS_STARTED_TOGETHER = 4

export type { Profile }

/** A router and two users, alice and bob, contacts of each other, daemons on 127.0.0.1. */
export interface Topology {
  router: RunningDaemon
  alice: Profile
  bob: Profile
  aliceD: RunningDaemon
  bobD: RunningDaemon
  /** bob offers 127.0.0.1:target as `service`; alice gets a local port for it. */
  tunnel: (service: string, target: number) => Promise<number>
  /** Adds extra users that join the DHT (for cold lookups in a bigger network). */
  addUsers: (n: number) => Promise<Array<{ profile: Profile, daemon: RunningDaemon }>>
}

async function cli (home: string, args: string[]): Promise<string> {
  const r = await runCli(home, args)
  if (r.code !== 0) throw new Error(`cspace ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

export async function buildTopology (): Promise<Topology> {
  const { router, boot, alice, bob, aliceD, bobD } = await startTwoUsers()
  return {
    router,
    alice,
    bob,
    aliceD,
    bobD,
    tunnel: async (service, target) => {
      await cli(bob.home, ['expose', service, `127.0.0.1:${target}`])
      return Number((await cli(alice.home, ['forward', '0', 'bob', service])).trim())
    },
    // several at once, as users of a running network come and go
    // independently; not all at once, which only measures two saturated cores
    addUsers: async (n) => {
      const out: Array<{ profile: Profile, daemon: RunningDaemon }> = []
      for (let i = 0; i < n; i += USERS_STARTED_TOGETHER) {
        out.push(...await Promise.all(Array.from({ length: Math.min(USERS_STARTED_TOGETHER, n - i) }, async (_, j) => {
          const profile = await makeProfile(`user${i + j}`)
          return { profile, daemon: await startDaemon(profile.home, boot) }
        })))
      }
      return out
    }
  }
}
