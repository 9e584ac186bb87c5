// sysexits(3) codes used by every mode.
export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_SOFTWARE = 70;
export const EX_IOERR = 74;
export const EX_TEMPFAIL = 75;
export const EX_CONFIG = 78;

/** An error that ends the program with a one-line message and a sysexits code. */
export class ExitError extends Error {
  constructor(public readonly code: number, message: string) {
    super(message);
  }
}
