// Who uses a database: an exclusive flock(2) on DATABASE.lock, held by the
// daemon (and by --scan-once) for its whole life. The kernel drops the lock
// when the process ends, however it ends (kill -9 included), so a stale lock
// cannot exist and no PID or command line needs to be matched. The file holds
// the holder's PID for the message only; it is opened O_NOFOLLOW, mode 0600.
// flock is not in Node's fs: it is called in libc through bun:ffi.
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeSync } from "node:fs";
import { EX_IOERR, EX_TEMPFAIL, ExitError } from "../util/exit.ts";

const LOCK_EX = 2, LOCK_NB = 4;
const EWOULDBLOCK = 11, EINTR = 4;

let libc: { flock(fd: number, op: number): number; errno(): number } | null = null;
function sys() {
  if (!libc) {
    const l = dlopen("libc.so.6", {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    libc = {
      flock: (fd, op) => l.symbols.flock(fd, op),
      errno: () => read.i32(l.symbols.__errno_location()!, 0),
    };
  }
  return libc;
}

export function lockPath(database: string): string {
  return `${database}.lock`;
}

export interface DbLock {
  release(): void;
}

/** The PID recorded in the lock file (for messages), or 0. */
function holder(fd: number): number {
  const buf = Buffer.alloc(32);
  const n = readSync(fd, buf, 0, buf.length, 0);
  const pid = Number(buf.subarray(0, n).toString("latin1").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/**
 * Take the database's lock or throw ExitError 75 naming the holder. `what`
 * says who wants it, for the message ("the daemon", "--scan-once").
 */
export function lockDatabase(database: string, what: string): DbLock {
  const path = lockPath(database);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new Error("not a regular file");
    }
  } catch (e) {
    throw new ExitError(EX_IOERR, `${path}: cannot open the lock file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let r: number;
  do r = sys().flock(fd, LOCK_EX | LOCK_NB);
  while (r !== 0 && sys().errno() === EINTR);
  if (r !== 0) {
    const err = sys().errno();
    const pid = err === EWOULDBLOCK ? holder(fd) : 0;
    closeSync(fd);
    if (err === EWOULDBLOCK) {
      throw new ExitError(EX_TEMPFAIL, `${database}: in use by another integrityd${pid ? ` (PID ${pid})` : ""}; ${what} needs it alone`);
    }
    throw new ExitError(EX_IOERR, `${path}: flock failed (errno ${err})`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      closeSync(fd); // closing the last descriptor drops the lock
    },
  };
}

/**
 * The PID holding the database's lock now, or null: read from /proc/locks
 * (flock entries name the holder and the file's device and inode), so asking
 * never takes the lock and can never make a starting daemon fail.
 */
export function lockHolder(database: string, locks = "/proc/locks"): number | null {
  let st;
  try {
    st = statSync(lockPath(database), { bigint: true });
  } catch {
    return null;
  }
  const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
  const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
  let text = "";
  try {
    text = readFileSync(locks, "latin1");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    // "1: FLOCK  ADVISORY  WRITE 9182 fe:00:2660485 0 EOF"
    const m = /^\d+:\s+FLOCK\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m && BigInt(`0x${m[2]}`) === major && BigInt(`0x${m[3]}`) === minor && BigInt(m[4]) === st.ino) return Number(m[1]);
  }
  return null;
}
