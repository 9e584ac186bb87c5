// Facts about network addresses.

/** A host name or address on loopback (localhost, 127.0.0.0/8, ::1): only this host can answer there. */
export function isLoopback(host: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|::1|(0{1,4}:){7}0{0,3}1)$/i.test(host);
}
