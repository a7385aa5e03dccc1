import { createHash } from 'node:crypto'
import { connect } from '../../../src/sdk/index.js'
import { FrameType, encodeControl, encodeDataHeader, fileDigest, readFrames } from '../../../src/apps/files/index.js'

export interface Reply { type: number, body: Record<string, unknown> }

/** A hand-written sender: writes `frames` to bob's `files` service and collects the control frames until the receiver closes. */
export async function rawSession (home: string, to: string, frames: Buffer[], opts: { endAfter?: boolean } = {}): Promise<Reply[]> {
  const socket = await connect(to, 'files', { home })
  socket.on('error', () => {})
  for (const f of frames) socket.write(f)
  if (opts.endAfter === true) socket.end()
  const out: Reply[] = []
  try {
    for await (const frame of readFrames(socket, { chunkSize: () => 0 })) {
      out.push({ type: frame.type, body: JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown> })
    }
  } catch {}
  socket.destroy()
  return out
}

/** OFFER, all DATA and FILE_END frames for in-memory files, as a well-behaved sender would write them (chunk 64 KiB). */
export function framesFor (files: Array<{ path: string, data: Buffer }>, chunkSize = 64 * 1024, mtime = 1_700_000_000_000): Buffer[] {
  const out = [encodeControl(FrameType.OFFER, { v: 1, chunkSize, files: files.map(f => ({ path: f.path, size: f.data.length, mtime })) })]
  files.forEach((f, i) => {
    const hashes: Buffer[] = []
    for (let c = 0; c * chunkSize < f.data.length; c++) {
      const bytes = f.data.subarray(c * chunkSize, (c + 1) * chunkSize)
      const hash = createHash('sha256').update(bytes).digest()
      hashes.push(hash)
      out.push(encodeDataHeader(i, c, hash, bytes.length), bytes)
    }
    out.push(encodeControl(FrameType.FILE_END, { file: i, digest: fileDigest(Buffer.concat(hashes)) }))
  })
  return out
}
