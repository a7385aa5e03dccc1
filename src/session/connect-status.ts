/** The callee's answer to a service request (connect protocol v1), one byte on the wire. */
export enum ConnectStatus {
  Ok = 0,
  NoSuchService = 1,
  NotAllowed = 2,
  ServiceUnreachable = 3,
  BadRequest = 4,
  UnsupportedVersion = 5,
  Busy = 6
}
