/** The callee's answer to a service request (connect protocol v1), one byte on the wire. */
export enum ConnectStatus {
  Ok = 0,
  NoSuchService = 1,
  NotAllowed = 2,
  ServiceUnreachable = 3,
  BadRequest = 4,
  UnsupportedVersion = 5,
  Busy = 6,
  /**
   * Not an answer: the callee is asking its user (a "prompt" rule), and the
   * answer follows in a second response frame. It lets the caller wait as
   * long as a person may take instead of its connect deadline.
   */
  Asking = 7
}
