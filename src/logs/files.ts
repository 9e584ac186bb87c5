// File access for the log follower: opening (read-only, non-blocking, never a
// controlling tty), positional reads, stat as plain facts, and finding a
// rotated file next to a log (by inode, or the copy left by copytruncate).
// Which file is which is decided in follow.ts; this file only looks.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { copyCandidate, type FileFacts, type FileId, type Followed, FP_LEN, fpAgrees, fpMatchesFully, rotatedNames } from "./follow.ts";

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

export function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

export function facts(st: Stats): FileFacts {
  return { dev: st.dev, ino: st.ino, isFile: st.isFile(), size: st.size, mtimeMs: st.mtimeMs, nlink: st.nlink };
}

/** Up to `len` bytes at `pos` (fewer at the end of the file). */
export function pread(fd: number, len: number, pos: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return got === len ? buf : buf.subarray(0, got);
}

/** The first FP_LEN bytes of a file (its fingerprint). */
export function head(fd: number): Buffer {
  return pread(fd, FP_LEN, 0);
}

export function openRead(p: string): number | null {
  try {
    return openSync(p, OPEN_FLAGS);
  } catch {
    return null;
  }
}

export function safeClose(fd: number | null): void {
  if (fd === null) return;
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** Why a log cannot be followed, for a notice: "does not exist (yet)", "is not a regular file", "cannot be read (EACCES)". */
export function whyNotReadable(p: string): string {
  let st: Stats;
  try {
    st = statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "does not exist (yet)" : `cannot be read (${code ?? "error"})`;
  }
  if (!st.isFile()) return "is not a regular file";
  try {
    closeSync(openSync(p, OPEN_FLAGS));
    return "could not be opened";
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
}

/** Paths of the rotated siblings of a log (see rotatedNames), in the order to try them. */
export function siblings(path: string): string[] {
  const dir = dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return rotatedNames(basename(path), names).map((n) => join(dir, n));
}

/** Open the file `stored` names by (dev, inode) among the log's siblings, checked against the fingerprint. */
export function findByInode(path: string, stored: Followed): number | null {
  for (const p of siblings(path)) {
    const st = statOrNull(p);
    if (!st || !st.isFile() || st.dev !== stored.dev || st.ino !== stored.ino) continue;
    const fd = openRead(p);
    if (fd === null) continue;
    const fst = fstatSync(fd);
    if (fst.dev === stored.dev && fst.ino === stored.ino && fpAgrees(stored.fingerprint, head(fd))) return fd;
    safeClose(fd);
  }
  return null;
}

/** After copytruncate: open the copy holding the bytes not read yet, if one is next to the log. */
export function findCopy(path: string, stored: Followed, truncatedIno: number): number | null {
  if (!stored.fingerprint || stored.fingerprint.length === 0) return null;
  for (const p of siblings(path)) {
    const st = statOrNull(p);
    if (!st || !copyCandidate(stored, truncatedIno, facts(st))) continue;
    const fd = openRead(p);
    if (fd === null) continue;
    if (fpMatchesFully(stored.fingerprint, pread(fd, stored.fingerprint.length, 0)) && fstatSync(fd).size >= stored.offset) return fd;
    safeClose(fd);
  }
  return null;
}

/** Open the log's path if it still names the file `id`. */
export function openSame(path: string, id: FileId): number | null {
  const fd = openRead(path);
  if (fd === null) return null;
  const st = fstatSync(fd);
  if (st.dev === id.dev && st.ino === id.ino) return fd;
  safeClose(fd);
  return null;
}

/** The siblings of a log with their stat, for follow.skippedRotations. */
export function siblingFacts(path: string): { name: string; st: FileFacts | null }[] {
  return siblings(path).map((p) => {
    const st = statOrNull(p);
    return { name: basename(p), st: st ? facts(st) : null };
  });
}
