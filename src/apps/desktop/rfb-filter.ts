/**
 * The view-only guard: an incremental parser of both directions of an RFB
 * (VNC) session that the share side puts between a contact and the VNC
 * server. View-only is enforced here rather than trusted to the VNC server:
 * input events (keys, pointer, clipboard) never reach it, and anything the
 * parser cannot account for byte by byte ends the session.
 *
 * Client → server is parsed throughout (RFB 3.3, 3.7, 3.8; security None or
 * VNC authentication; then the six standard client messages). Server →
 * client is parsed only until the security type is settled, to rewrite the
 * offered types to those whose client bytes this parser knows; the rest
 * passes through untouched.
 */

/** Largest SetEncodings count accepted (real clients send a few dozen). */
export const MAX_ENCODINGS = 1024
/** Largest ClientCutText accepted; it is dropped anyway in view-only mode. */
export const MAX_CUT_TEXT = 1024 * 1024
/** Bytes held while a side waits for the other's handshake (a real client sends only its version then). */
export const MAX_PENDING = 64 * 1024

const SEC_NONE = 1
const SEC_VNC_AUTH = 2
/** Security types whose client bytes are known: None (nothing) and VNC auth (a 16-byte response). */
const PARSEABLE_SECURITY = new Set([SEC_NONE, SEC_VNC_AUTH])

/**
 * Pseudo-encodings that, once the server acknowledges them, make a client send
 * extension messages (Fence, EnableContinuousUpdates, SetDesktopSize, xvp, gii,
 * QEMU key events, extended clipboard). They are struck from SetEncodings so
 * that such clients keep working in view-only mode instead of being cut off.
 */
const EXTENSION_PSEUDO_ENCODINGS = new Set([-313, -312, -309, -308, -305, -258, -259, 0xc0a1e5ce | 0])

/** What to send on after a chunk: bytes for each side, and whether the session must end (and why). */
export interface FilterOutput {
  toServer: Buffer[]
  toClient: Buffer[]
  /** Set once the session must be closed; the filter accepts nothing more. */
  close?: string
}

type ClientState = 'version' | 'choice' | 'await-type' | 'auth' | 'init' | 'messages' | 'skip'
type ServerState = 'version' | 'security' | 'pass'

/** Parses RFB "RFB 003.008\n"; returns the minor version, or undefined if malformed. */
function parseVersion (b: Buffer): { major: number, minor: number } | undefined {
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(b.toString('latin1'))
  return m == null ? undefined : { major: Number(m[1]), minor: Number(m[2]) }
}

/** A failure the client can display: 3.3 sends type 0 + reason, 3.7/3.8 an empty type list + reason. */
function securityFailure (minor: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8')
  const head = minor === 3 ? Buffer.alloc(4) : Buffer.alloc(1) // zeros: type "invalid" / zero types
  const len = Buffer.alloc(4)
  len.writeUInt32BE(text.length)
  return Buffer.concat([head, len, text])
}

/**
 * One session's view-only filter. Feed it each direction's chunks in order;
 * write out what it returns. Construct a new one per session.
 */
export class RfbViewOnlyFilter {
  private client: Buffer = Buffer.alloc(0)
  private server: Buffer = Buffer.alloc(0)
  private clientState: ClientState = 'version'
  private serverState: ServerState = 'version'
  private serverMinor: number | undefined
  private clientMinor: number | undefined
  /** The types offered to the client after rewriting (3.7/3.8), or the one the server chose (3.3). */
  private allowedTypes: number[] | undefined
  private chosenType: number | undefined
  private skipLeft = 0
  private closed: string | undefined
  /** Input events dropped so far (for logs and tests). */
  dropped = 0

  fromClient (chunk: Buffer): FilterOutput {
    if (this.closed == null) this.client = this.client.length === 0 ? chunk : Buffer.concat([this.client, chunk])
    return this.run()
  }

  fromServer (chunk: Buffer): FilterOutput {
    if (this.closed == null) {
      // once the handshake is settled the server's bytes are not inspected, so not held either
      if (this.serverState === 'pass' && this.server.length === 0) return { toServer: [], toClient: [chunk] }
      this.server = this.server.length === 0 ? chunk : Buffer.concat([this.server, chunk])
    }
    return this.run()
  }

  /** Advances both parsers until neither can progress (one side's progress may unblock the other). */
  private run (): FilterOutput {
    const out: FilterOutput = { toServer: [], toClient: [] }
    if (this.closed != null) { out.close = this.closed; return out }
    try {
      let progressed = true
      while (progressed && this.closed == null) {
        progressed = this.stepServer(out) || this.stepClient(out)
      }
      if (this.closed == null && (this.client.length > MAX_PENDING || this.server.length > MAX_PENDING)) {
        this.fail('handshake bytes beyond the limit while waiting for the other side')
      }
    } catch (err) {
      if (!(err instanceof FilterClose)) throw err
    }
    if (this.closed != null) { out.close = this.closed; this.client = Buffer.alloc(0); this.server = Buffer.alloc(0) }
    return out
  }

  private fail (reason: string): never {
    this.closed = reason
    throw new FilterClose()
  }

  private takeClient (n: number): Buffer {
    const b = this.client.subarray(0, n)
    this.client = this.client.subarray(n)
    return b
  }

  private takeServer (n: number): Buffer {
    const b = this.server.subarray(0, n)
    this.server = this.server.subarray(n)
    return b
  }

  private stepServer (out: FilterOutput): boolean {
    const s = this.server
    switch (this.serverState) {
      case 'version': {
        if (s.length < 12) return false
        const v = parseVersion(s.subarray(0, 12))
        if (v == null || v.major !== 3) this.fail('the VNC server did not send an RFB 3.x version')
        this.serverMinor = v.minor
        out.toClient.push(this.takeServer(12))
        this.serverState = 'security'
        return true
      }
      case 'security': {
        if (this.clientMinor == null) return false // which format follows depends on the client's version
        if (this.clientMinor === 3) {
          if (s.length < 4) return false
          const type = s.readUInt32BE(0)
          if (type !== 0 && !PARSEABLE_SECURITY.has(type)) {
            out.toClient.push(securityFailure(3, `cspace view-only: the VNC server requires security type ${type}, which the view-only filter cannot check; configure it for no password or a VNC password`))
            this.fail(`the VNC server chose security type ${type}, which the view-only filter cannot check`)
          }
          this.chosenType = type
          out.toClient.push(this.takeServer(4))
        } else {
          if (s.length < 1) return false
          const n = s[0]
          if (n === 0) { // the server refuses; its reason follows and passes through
            this.chosenType = 0
            out.toClient.push(this.takeServer(1))
          } else {
            if (s.length < 1 + n) return false
            const offered = [...s.subarray(1, 1 + n)]
            const kept = offered.filter(t => PARSEABLE_SECURITY.has(t))
            this.takeServer(1 + n)
            if (kept.length === 0) {
              out.toClient.push(securityFailure(this.clientMinor, `cspace view-only: the VNC server offers only security types ${offered.join(', ')}, which the view-only filter cannot check; configure it for no password or a VNC password`))
              this.fail(`the VNC server offers no security type the view-only filter can check (offered: ${offered.join(', ')})`)
            }
            this.allowedTypes = kept
            out.toClient.push(Buffer.from([kept.length, ...kept]))
          }
        }
        this.serverState = 'pass'
        return true
      }
      case 'pass':
        if (s.length === 0) return false
        out.toClient.push(this.takeServer(s.length))
        return true
    }
  }

  private stepClient (out: FilterOutput): boolean {
    const c = this.client
    switch (this.clientState) {
      case 'version': {
        if (c.length < 12) return false
        if (this.serverMinor == null) return false // a client speaks after the server's greeting
        const v = parseVersion(c.subarray(0, 12))
        if (v == null || v.major !== 3 || ![3, 7, 8].includes(v.minor)) this.fail('the viewer did not send RFB version 3.3, 3.7 or 3.8')
        if (v.minor > this.serverMinor) this.fail(`the viewer asked for RFB 3.${v.minor}, above the server's 3.${this.serverMinor}`)
        this.clientMinor = v.minor
        out.toServer.push(this.takeClient(12))
        this.clientState = v.minor === 3 ? 'await-type' : 'choice'
        return true
      }
      case 'choice': {
        if (this.allowedTypes == null || c.length < 1) return false
        const type = c[0]
        if (!this.allowedTypes.includes(type)) this.fail(`the viewer chose security type ${type}, which was not offered`)
        this.chosenType = type
        out.toServer.push(this.takeClient(1))
        this.clientState = type === SEC_VNC_AUTH ? 'auth' : 'init'
        return true
      }
      case 'await-type':
        // 3.3: the server picks; a refusal (0) leaves nothing more for the client to say
        if (this.chosenType == null || this.chosenType === 0 || c.length === 0) return false
        this.clientState = this.chosenType === SEC_VNC_AUTH ? 'auth' : 'init'
        return true
      case 'auth':
        if (c.length < 16) return false
        out.toServer.push(this.takeClient(16))
        this.clientState = 'init'
        return true
      case 'init':
        if (c.length < 1) return false
        out.toServer.push(this.takeClient(1)) // ClientInit: the shared flag
        this.clientState = 'messages'
        return true
      case 'skip': {
        if (c.length === 0) return false
        const n = Math.min(this.skipLeft, c.length)
        this.takeClient(n)
        this.skipLeft -= n
        if (this.skipLeft === 0) this.clientState = 'messages'
        return true
      }
      case 'messages':
        return this.clientMessage(out)
    }
  }

  /** One client message after the handshake: forwarded, dropped (input), or the session ends. */
  private clientMessage (out: FilterOutput): boolean {
    const c = this.client
    if (c.length < 1) return false
    switch (c[0]) {
      case 0: // SetPixelFormat
        if (c.length < 20) return false
        out.toServer.push(this.takeClient(20))
        return true
      case 2: { // SetEncodings
        if (c.length < 4) return false
        const n = c.readUInt16BE(2)
        if (n > MAX_ENCODINGS) this.fail(`SetEncodings with ${n} encodings (limit ${MAX_ENCODINGS})`)
        if (c.length < 4 + 4 * n) return false
        const msg = this.takeClient(4 + 4 * n)
        const kept: number[] = []
        for (let i = 0; i < n; i++) {
          const e = msg.readInt32BE(4 + 4 * i)
          if (!EXTENSION_PSEUDO_ENCODINGS.has(e)) kept.push(e)
        }
        const rewritten = Buffer.alloc(4 + 4 * kept.length)
        rewritten[0] = 2
        rewritten.writeUInt16BE(kept.length, 2)
        kept.forEach((e, i) => rewritten.writeInt32BE(e, 4 + 4 * i))
        out.toServer.push(rewritten)
        return true
      }
      case 3: // FramebufferUpdateRequest
        if (c.length < 10) return false
        out.toServer.push(this.takeClient(10))
        return true
      case 4: // KeyEvent: input, dropped
        if (c.length < 8) return false
        this.takeClient(8)
        this.dropped++
        return true
      case 5: // PointerEvent: input, dropped
        if (c.length < 6) return false
        this.takeClient(6)
        this.dropped++
        return true
      case 6: { // ClientCutText: writes the sharer's clipboard, dropped
        if (c.length < 8) return false
        const len = c.readUInt32BE(4)
        if (len > MAX_CUT_TEXT) this.fail(`ClientCutText of ${len} bytes (limit ${MAX_CUT_TEXT})`)
        this.takeClient(8)
        this.dropped++
        this.skipLeft = len
        if (len > 0) this.clientState = 'skip'
        return true
      }
      default:
        this.fail(`the viewer sent message type ${c[0]}, which view-only mode does not allow`)
    }
  }
}

/** Internal: unwinds the parser once the session must end. */
class FilterClose extends Error {}
