// File access for the log follower: opening, positional reads, stat as plain
// facts, what is at a log's path (`lookAt`), and finding a rotated file next
// to a log (by inode, or the copy left by copytruncate). Which file is which,
// and which symbolic link may be followed, is decided in follow.ts; this file
// only looks.
//
// Opening never follows a symbolic link and never blocks: O_NOFOLLOW |
// O_NONBLOCK | O_NOCTTY, and anything but a regular file (after fstat) is
// closed again. A log path that is a symbolic link is resolved here only when
// follow.ts trusts the link (`linkTrusted`), and then its target is opened, by
// its real path and again without following a link: the daemon runs as root,
// and a link planted by whoever may write to a log's directory must not make
// it read (and mail) a file that user could not read.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { copyCandidate, type FileFacts, type FileId, type Followed, FP_LEN, fpAgrees, fpMatchesFully, linkTrusted, rotatedNames } from "./follow.ts";

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | constants.O_NOFOLLOW;

/** lstat: a symbolic link is described, not followed. */
export function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** What is at a log's path. */
export type AtPath =
  /** nothing (or a trusted link that points at nothing) */
  | { kind: "none" }
  /** a file (regular or not, see st.isFile): the path itself, or a trusted link's target; `open` is the path to open */
  | { kind: "file"; open: string; st: FileFacts }
  /** a symbolic link not to be followed; `target` as far as it could be read */
  | { kind: "refused"; target: string };

/**
 * Look at a log's path without following a link blindly. `named(p)`: the
 * config names p as a log. `selfUid`: the daemon's own user (root in use).
 */
export function lookAt(path: string, named: (p: string) => boolean, selfUid: number): AtPath {
  const l = lstatOrNull(path);
  if (!l) return { kind: "none" };
  if (!l.isSymbolicLink()) return { kind: "file", open: path, st: facts(l) };
  let real: string | null = null;
  try {
    real = realpathSync(path);
  } catch {
    /* dangling, or a loop */
  }
  let dir: Stats | null = null;
  try {
    dir = statSync(dirname(path)); // the directory the link is in (through links: where names are replaced)
  } catch {
    /* vanished: not trusted */
  }
  const trusted = linkTrusted({ linkUid: l.uid, dirUid: dir?.uid ?? -1, dirMode: dir?.mode ?? 0o7777 }, real !== null && named(real), selfUid);
  if (!trusted) {
    let target = real ?? "";
    if (!target) {
      try {
        target = readlinkSync(path);
      } catch {
        /* gone meanwhile */
      }
    }
    return { kind: "refused", target };
  }
  const t = real !== null ? lstatOrNull(real) : null;
  return t ? { kind: "file", open: real!, st: facts(t) } : { kind: "none" };
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

/** Open a regular file for reading (see the header: no link followed, never blocks); null when that fails or it is not a regular file. */
export function openRead(p: string): number | null {
  let fd: number;
  try {
    fd = openSync(p, OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    if (fstatSync(fd).isFile()) return fd;
  } catch {
    /* cannot be described: not read */
  }
  safeClose(fd);
  return null;
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
    st = lstatSync(p);
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
    const st = lstatOrNull(p);
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
    const st = lstatOrNull(p);
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
    const st = lstatOrNull(p);
    return { name: basename(p), st: st ? facts(st) : null };
  });
}
