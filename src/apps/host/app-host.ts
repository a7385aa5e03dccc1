/** A running app's background part: it listens for its service and serves its control socket. */
export interface AppHost {
  readonly app: string
  stop: () => Promise<void>
}

/** Starts one app's background part for the profile at `home` (the daemon must be running). */
export type AppHostStarter = (options: { home: string }) => Promise<AppHost>
