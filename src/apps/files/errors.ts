import { CspaceError, UsageError } from '../../errors.js'

/** The receiver said no. */
export class TransferDeclined extends CspaceError {
  constructor (who: string) {
    super('TRANSFER_DECLINED', `${who} declined the files; ask them before sending again`)
  }
}

/** The receiver's disk (downloads directory) cannot hold the files. */
export class ReceiverDiskFull extends CspaceError {
  constructor (who: string) {
    super('DISK_FULL', `${who}'s disk is full; ask them to free space, then run the same command again to resume`)
  }
}

/** The other side refused what was sent (a bad manifest, a corrupt chunk, a file that changed). */
export class TransferRejected extends CspaceError {
  constructor (code: string, message: string) {
    super(code, message)
  }
}

/** The other side broke the wire format; the connection is dropped. */
export class WireError extends CspaceError {
  constructor (code: string, message: string) {
    super(code, message)
  }
}

export class TransferNotFound extends CspaceError {
  constructor (id: string) {
    super('TRANSFER_NOT_FOUND', `no transfer ${JSON.stringify(id.slice(0, 40))}; see \`cspace transfers\``, 2)
  }
}

export class SourceUnreadable extends UsageError {
  constructor (path: string, why: string) {
    super(`cannot send ${path}: ${why}`, 'SOURCE_UNREADABLE')
  }

  /** From a file system error: its meaning in words, not Node's "ENOENT: …, stat '/path'" that repeats the path. */
  static from (path: string, err: unknown): SourceUnreadable {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'there is no such file or directory'
      : e.code === 'EACCES' || e.code === 'EPERM' ? 'you may not read it'
        : e.code === 'ENOTDIR' ? 'a part of its path is not a directory'
          : e.code === 'ELOOP' ? 'its symbolic links go round in a loop'
            : e.message
    return new SourceUnreadable(path, why)
  }
}

/** A file's size changed while it was being sent: sent again, its transfer is another one (its ID is of names, sizes and times). */
export class SourceChanged extends SourceUnreadable {
  constructor (path: string) {
    super(path, 'it changed while sending; run the command again')
  }
}

/** The receiver stayed unreachable for longer than the sender was told to keep trying. */
export class TransferGaveUp extends CspaceError {
  constructor (who: string, why: string) {
    super('TRANSFER_GAVE_UP', `gave up reaching ${who} (${why}); run the same command again later to resume`)
  }
}

/** The sender stopped the transfer (the web UI's Cancel); the receiver keeps what it has, to resume. */
export class TransferCancelled extends CspaceError {
  constructor () {
    super('TRANSFER_CANCELLED', 'the transfer was cancelled; send the files again to resume')
  }
}
