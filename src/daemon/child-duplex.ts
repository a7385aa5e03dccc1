import { Duplex } from 'node:stream'
import type { Readable, Writable } from 'node:stream'

/**
 * A command's stdout (readable side) and stdin (writable side) as one duplex
 * for the tunnel pipe. Unlike `Duplex.from`, a command that exits without
 * reading its input (`cat FILE`, `printf x`) is not an error: `Duplex.from`
 * reports "Premature close" the moment stdin closes unfinished, even while
 * stdout still holds output, and the pipe then reset the stream and lost the
 * output's tail. Input the command never read is dropped.
 */
export function childDuplex (child: { stdin: Writable, stdout: Readable }): Duplex {
  const { stdin, stdout } = child
  stdin.on('error', () => {}) // EPIPE: the command stopped reading
  const duplex = new Duplex({
    read () { stdout.resume() },
    write (chunk: Buffer, _encoding, callback) {
      if (stdin.destroyed || stdin.writableEnded) { callback(); return }
      stdin.write(chunk, () => { callback() })
    },
    final (callback) {
      if (stdin.destroyed || stdin.writableEnded) { callback(); return }
      stdin.end(() => { callback() })
    },
    destroy (err, callback) {
      stdout.destroy()
      stdin.destroy()
      callback(err)
    }
  })
  stdout.on('data', (chunk: Buffer) => { if (!duplex.push(chunk)) stdout.pause() })
  stdout.on('end', () => duplex.push(null))
  stdout.on('error', (err) => duplex.destroy(err))
  return duplex
}
