/**
 * The part of noVNC's RFB class (@novnc/novnc 1.7, core/rfb.js, which ships
 * no types) that the desktop view uses; see its docs/API.md.
 */
declare module '@novnc/novnc' {
  export interface RfbEvents {
    connect: CustomEvent<Record<string, never>>
    /** `clean` is false when the connection failed or broke rather than ended. */
    disconnect: CustomEvent<{ clean: boolean }>
    /** The server refused the security handshake; `reason` is its message, when it sent one. */
    securityfailure: CustomEvent<{ status: number, reason?: string }>
    desktopname: CustomEvent<{ name: string }>
    credentialsrequired: CustomEvent<{ types: string[] }>
  }

  export interface RfbOptions {
    shared?: boolean
    credentials?: { username?: string, password?: string, target?: string }
    repeaterID?: string
    wsProtocols?: string[]
  }

  export default class RFB {
    /** `target` receives noVNC's own screen element; `urlOrChannel` is a ws(s):// URL or an open(ing) WebSocket. */
    constructor (target: HTMLElement, urlOrChannel: string | WebSocket, options?: RfbOptions)
    viewOnly: boolean
    scaleViewport: boolean
    clipViewport: boolean
    resizeSession: boolean
    focusOnClick: boolean
    background: string
    disconnect (): void
    focus (options?: FocusOptions): void
    addEventListener<K extends keyof RfbEvents>(type: K, listener: (event: RfbEvents[K]) => void): void
    removeEventListener<K extends keyof RfbEvents>(type: K, listener: (event: RfbEvents[K]) => void): void
  }
}
