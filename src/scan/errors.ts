// File system trouble as values: the FsProblem the scanner records or
// reports, and the message for an error code. A leaf: reader.ts, dirs.ts and
// wire.ts all describe errors the same way.

export interface FsProblem {
  ok: false;
  code: string; // ENOENT, EACCES, EIO, ...
  message: string;
}

const DESCRIPTIONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  ELOOP: "is a symbolic link now",
  ENAMETOOLONG: "name too long",
  EMFILE: "too many open files",
  ENFILE: "too many open files in system",
  ENOMEM: "out of memory",
  EAGAIN: "resource temporarily unavailable",
  ESTALE: "stale file handle",
};

/** The message reported for an error code (and the system's message, if the code is not one of ours). */
export function describe(code: string, message?: string): string {
  const d = DESCRIPTIONS[code];
  if (d) return `${d} (${code})`;
  const first = (message ?? code).split("\n")[0].replace(/, \w+ '.*$/s, "");
  return first.includes(code) ? first : `${first} (${code})`;
}

/** A thrown file system error as a problem (its code described). */
export function problem(e: unknown): FsProblem {
  const err = e as { code?: string; message?: string };
  const code = err.code ?? "EUNKNOWN";
  return { ok: false, code, message: describe(code, err.message) };
}

/** An error's code and the first line of its message, undescribed (it crosses threads as is). */
export function rawProblem(e: unknown): { code: string; message: string } {
  const err = e as { code?: string; message?: string };
  return { code: err.code ?? "EUNKNOWN", message: String(err.message ?? e).split("\n")[0] };
}
