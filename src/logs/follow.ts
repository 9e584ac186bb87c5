// The follow decision for one log. Pure: plain values in (what is stored about
// the file followed, what stat and a read of the first bytes say now, the time
// passed in), a decision out. The task (tailer.ts) gathers the facts, acts on
// the answer and asks again; this file does no I/O and reads no clock.
//
// The stored state names the file being followed (dev, inode; inode 0: none),
// the offset of the first line not yet classified and two fingerprints: its
// first FP_LEN bytes, and the last (up to FP_LEN) bytes before the offset (the
// tailprint, kept up to date by `nextTailprint` as the offset moves). Each pass
// compares it with what the path names now:
// - `pathState`: the path is not a regular file (not read); nothing is
//   followed and the path is absent (one notice) or has a file (follow it from
//   0); or a file is followed: the task then looks for it (the descriptor it
//   holds, the path, or a rotated sibling found by inode) and asks
// - `followedState`: the followed file is gone (deleted, or rotated and
//   compressed while we were not running: lines after the offset are lost, a
//   notice), is the file at the path (check its head), or was moved away
//   (rename rotation, or deleted while we hold it): read it to its end, then
// - `afterMove`: still renamed and no new file yet: keep reading the old one;
//   a new file is at the path but the old one was written less than
//   ROTATE_GRACE ago (its writer has not reopened yet): keep reading the old
//   one a little longer, for at most ROTATE_MAX_WAIT after the rotation was
//   seen; otherwise finish it (partial last line included) and follow the new
//   file from 0, or, deleted, wait for re-creation.
// - `checkHead` (the file at the path): same inode but size below the offset,
//   first bytes changed, or the bytes before the offset changed: truncated
//   (copytruncate) or rewritten, read it again from 0 (after taking the unread
//   tail from a copy, see `copyCandidate`). The tailprint catches a file
//   truncated and written again past the offset with the same first bytes
//   (a fixed header, say): by size and head alone it looks like the old file
//   grown, and every line before the offset would be lost without a word.
//
// Rotated siblings of a log are NAME.1, NAME.0, NAME-YYYYMMDD, NAME_old, ...:
// `rotatedNames` picks and orders them from a directory listing.
//
// Who may decide what is read. The daemon reads logs as root and mails their
// lines; whoever may write to a log's directory must not be able to make it
// read another file. So a log path that is a symbolic link is followed only
// when `linkTrusted` says so: the config names the link's target as a log
// itself, or the link is root's in a directory that is root's and that no one
// else may write to (no group or other write bit). Otherwise the link is
// refused: a notice, never its target's content. And a followed file whose
// owner is not the one recorded when it was last opened or read
// (`ownerChanged`) is a notice: a file replaced or chowned behind our back.

/** Bytes of the file start kept as its fingerprint. */
export const FP_LEN = 256;
/** After a rename rotation, keep reading the old file while it was written this recently (ms). */
export const ROTATE_GRACE = 1000;
/** ... but for at most this long after the rotation was seen (ms). */
export const ROTATE_MAX_WAIT = 10_000;

/** A file's identity. ino 0: no file. */
export interface FileId {
  dev: number;
  ino: number;
}

/** What stat says of a file (a subset of node's Stats). */
export interface FileFacts extends FileId {
  isFile: boolean;
  size: number;
  mtimeMs: number;
  nlink: number;
}

/** What is stored about the file followed (the `logs` row). */
export interface Followed extends FileId {
  offset: number;
  fingerprint: Uint8Array | null;
  /** the last bytes (<= FP_LEN) before offset; null or empty: nothing to compare */
  tailprint: Uint8Array | null;
}

export function sameFile(a: FileId | null, b: FileId | null): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino;
}

/** Does `head` (the file's first bytes now) agree with the fingerprint on their common length? */
export function fpAgrees(fp: Uint8Array | null, head: Uint8Array): boolean {
  if (!fp) return true;
  const n = Math.min(fp.length, head.length);
  for (let i = 0; i < n; i++) if (fp[i] !== head[i]) return false;
  return true;
}

/** Does `head` start with the whole (non-empty) fingerprint? */
export function fpMatchesFully(fp: Uint8Array | null, head: Uint8Array): boolean {
  return !!fp && fp.length > 0 && head.length >= fp.length && fpAgrees(fp, head);
}

export type PathState =
  /** the path names a directory, device, ...: not read */
  | { kind: "not-regular" }
  /** nothing followed and nothing at the path; `announce`: not said yet (queue a notice) */
  | { kind: "absent"; announce: boolean }
  /** nothing followed, a file is at the path now: follow it from its start */
  | { kind: "appeared" }
  /** a file is followed: find it, then ask followedState */
  | { kind: "followed" };

/** `announced`: the path was found absent before and that was said (stored as `missing`). */
export function pathState(stored: FileId, announced: boolean, atPath: FileFacts | null): PathState {
  if (atPath && !atPath.isFile) return { kind: "not-regular" };
  if (stored.ino === 0) return atPath ? { kind: "appeared" } : { kind: "absent", announce: !announced };
  return { kind: "followed" };
}

export type FollowedState =
  /** the followed file cannot be found: follow the file at the path from 0 (pathExists) or wait, with a notice */
  | { kind: "gone"; pathExists: boolean }
  /** the followed file is the one at the path: checkHead, then read on */
  | { kind: "current" }
  /** the followed file is no longer at the path: read it to its end, then afterMove */
  | { kind: "moved" };

/** `found`: the followed file as found (held descriptor, the path, or a sibling by inode), null when not found. */
export function followedState(stored: Followed, atPath: FileFacts | null, found: FileId | null): FollowedState {
  if (!found) return { kind: "gone", pathExists: !!atPath };
  return sameFile(atPath, stored) ? { kind: "current" } : { kind: "moved" };
}

export type HeadCheck =
  /** the same file, grown or not; `fingerprint`: what to store (longer when the file has grown past it) */
  | { kind: "same"; fingerprint: Uint8Array | null }
  /** truncated (size below the offset) or rewritten (first bytes changed): read again from 0 */
  | { kind: "truncated"; why: "shorter" | "rewritten" };

/**
 * The file at the path is the one followed: `size` and `head` (its first
 * FP_LEN bytes) now, and `before`: its bytes now just before the stored offset,
 * as many as the tailprint holds (null when they could not be read: the file is
 * shorter).
 */
export function checkHead(stored: Followed, size: number, head: Uint8Array, before: Uint8Array | null): HeadCheck {
  const agrees = fpAgrees(stored.fingerprint, head);
  if (size < stored.offset) return { kind: "truncated", why: agrees ? "shorter" : "rewritten" };
  if (!agrees || !tailAgrees(stored.tailprint, before)) return { kind: "truncated", why: "rewritten" };
  return { kind: "same", fingerprint: head.length > (stored.fingerprint?.length ?? 0) ? head : stored.fingerprint };
}

/** Are the bytes before the offset now (`before`) the stored tailprint? No tailprint: nothing to compare. */
export function tailAgrees(tailprint: Uint8Array | null, before: Uint8Array | null): boolean {
  if (!tailprint || tailprint.length === 0) return true;
  if (!before || before.length !== tailprint.length) return false;
  for (let i = 0; i < tailprint.length; i++) if (tailprint[i] !== before[i]) return false;
  return true;
}

/**
 * The tailprint once the offset has moved on over `consumed` (the bytes just
 * read past the old offset; `prev`: the tailprint before them, null at offset
 * 0): the last FP_LEN bytes of prev + consumed, in a new array (it does not
 * hold on to the read buffer).
 */
export function nextTailprint(prev: Uint8Array | null, consumed: Uint8Array): Uint8Array | null {
  if (consumed.length === 0) return prev;
  const keepPrev = Math.min(prev?.length ?? 0, Math.max(0, FP_LEN - consumed.length));
  const fromNew = Math.min(consumed.length, FP_LEN);
  const out = new Uint8Array(keepPrev + fromNew);
  if (keepPrev > 0) out.set(prev!.subarray(prev!.length - keepPrev), 0);
  out.set(consumed.subarray(consumed.length - fromNew), keepPrev);
  return out;
}

export type MoveAction =
  /** renamed, no new file at the path yet: keep following the old file */
  | "keep"
  /** a new file is at the path, the old one is still being written: read it again after `graceMs` */
  | "wait"
  /** finish the old file, then follow the new one from 0 */
  | "rotated"
  /** finish the old file (no link left, nothing at the path): notice, wait for re-creation */
  | "deleted";

export interface MoveFacts {
  /** a file is at the path (looked at before reading the old file to its end) */
  pathExists: boolean;
  /** the old file now, after reading it to its end */
  old: { nlink: number; mtimeMs: number };
  now: number;
  /** when the rotation was first seen waiting (0: not yet) */
  rotationSeen: number;
  graceMs: number;
}

/** The followed file was moved away and read to its end: what now. `rotationSeen`: the value to keep. */
export function afterMove(f: MoveFacts): { action: MoveAction; rotationSeen: number } {
  let seen = f.rotationSeen;
  if (f.old.nlink > 0) {
    if (!f.pathExists) return { action: "keep", rotationSeen: seen };
    if (!seen) seen = f.now;
    if (f.graceMs > 0 && f.now - f.old.mtimeMs < f.graceMs && f.now - seen < ROTATE_MAX_WAIT) {
      return { action: "wait", rotationSeen: seen };
    }
  }
  return { action: f.pathExists ? "rotated" : "deleted", rotationSeen: seen };
}

/** A symbolic link at a log's path, and the directory it is in. */
export interface LinkFacts {
  linkUid: number;
  dirUid: number;
  /** st_mode of the directory (its permission bits are what count) */
  dirMode: number;
}

/**
 * May the link at a log's path be followed? `targetNamed`: its target is a log
 * the config names. `selfUid`: the daemon's own user, trusted as root is (the
 * daemon runs as root; a test or a user's own instance as itself).
 */
export function linkTrusted(l: LinkFacts, targetNamed: boolean, selfUid: number): boolean {
  if (targetNamed) return true;
  const trustedUid = (uid: number) => uid === 0 || uid === selfUid;
  return trustedUid(l.linkUid) && trustedUid(l.dirUid) && (l.dirMode & 0o022) === 0;
}

/** Is the owner now (`uid`) another than the one recorded (-1: none recorded yet, nothing to compare)? */
export function ownerChanged(recorded: number, uid: number): boolean {
  return recorded !== -1 && recorded !== uid;
}

/** Names in a log's directory that are its rotated siblings (NAME.x, NAME-x, NAME_x), numbered .0/.1 first, then dated, then the rest. */
export function rotatedNames(base: string, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n === base || !n.startsWith(base)) continue;
    const c = n.charAt(base.length);
    if (c === "." || c === "-" || c === "_") out.push(n);
  }
  const rank = (p: string) => (/\.(0|1)$/.test(p) ? 0 : /[-.]\d{8}$/.test(p) ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * After copytruncate: may a sibling (its stat) be the copy holding the bytes
 * not read yet? A regular file, not the truncated one, at least `offset` bytes
 * long; it is the copy when its first bytes also match the whole fingerprint
 * (fpMatchesFully). Without a fingerprint no copy can be recognised.
 */
export function copyCandidate(stored: Followed, truncatedIno: number, st: FileFacts): boolean {
  return !!stored.fingerprint && stored.fingerprint.length > 0 && st.isFile && st.ino !== truncatedIno && st.size >= stored.offset;
}

/**
 * Rotated siblings (name, stat) written after the file just finished (`old`)
 * that are neither it nor the current log: after several rotations while we
 * were not running these hold lines that were not read. Sorted names.
 */
export function skippedRotations(siblings: readonly { name: string; st: FileFacts | null }[], old: FileFacts, cur: FileId | null): string[] {
  const out: string[] = [];
  for (const { name, st } of siblings) {
    if (!st || !st.isFile || sameFile(st, old) || sameFile(st, cur)) continue;
    if (st.mtimeMs > old.mtimeMs) out.push(name);
  }
  return out.sort();
}
