// Directories by descriptor: how the scanner reaches a path without ever
// resolving a path an attacker could change under it. Contract:
//
//   - a directory is opened O_DIRECTORY|O_NOFOLLOW|O_NONBLOCK (O_NOATIME where
//     permitted) relative to its parent's descriptor, one component at a time:
//     a component that is a symlink or not a directory fails (ENOTDIR), it is
//     never followed; only an area's own path (the administrator's) is
//     resolved as a whole;
//   - an entry is reached relative to its directory's descriptor: lstat and
//     open through openat/fstatat (libc.ts) where available, else, and for
//     readdir and readlink, as `/proc/self/fd/N/NAME` (at()): the kernel
//     takes /proc/self/fd/N to the opened directory itself and NAME is one
//     component, so nothing a user controls is resolved, and no path is ever
//     longer than a name plus ~25 bytes (a tree deeper than PATH_MAX is
//     walked like any other);
//   - OpenDirs keeps descriptors for the full-speed walk (a directory's from
//     its parent's), a bounded number of them: LRU beyond `keep`, never one in
//     use (pinned); with keep = 0 (the trickle) a chain is opened fresh for
//     each visit and closed with it.
//
// Why both: node:fs has no openat/fstatat. /proc/self/fd paths work with
// every node:fs call, on the main thread and in the walk workers, but the
// /proc lookup costs ~2.5 us more per lstat or open than a whole path (~5%
// of a --scan-once pass's CPU, measured); libc.ts's calls cost less than a
// whole path, so they take the two calls made for every entry, and /proc the
// rest (readdir once per directory, readlink once per symlink). /proc must be
// mounted and visible (Linux; the systemd unit keeps it).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, type BigIntStats } from "node:fs";
import { readdir as readdirAsync } from "node:fs/promises";
import { describe, problem, type FsProblem } from "./errors.ts";
import { nativeAt } from "./libc.ts";
import type { Listing, StatFields } from "./facts.ts";
import { asBuffer, isWithin, parentOf, pathKey, samePath, type PathBytes } from "./paths.ts";

const SLASH = 0x2f;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const NOATIME = constants.O_NOATIME ?? 0;

/** The path naming entry `name` (one component) of the directory open as `dirfd`. */
export function at(dirfd: number, name: Uint8Array): Buffer {
  const head = `/proc/self/fd/${dirfd}/`;
  const out = Buffer.allocUnsafe(head.length + name.length);
  out.write(head, 0, "latin1");
  out.set(name, head.length);
  return out;
}

/** The path naming the directory open as `fd` itself. */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** lstat (never follows) of entry `name` of the directory open as `dirfd`. Throws. */
export function lstatAt(dirfd: number, name: Uint8Array): StatFields & { dev: bigint } {
  const n = nativeAt();
  return n ? n.lstat(dirfd, name) : lstatSync(at(dirfd, name), { bigint: true });
}

/** open(2) of entry `name` of the directory open as `dirfd`, with O_NOATIME where permitted. Throws. */
export function openAt(dirfd: number, name: Uint8Array, flags: number): number {
  const n = nativeAt();
  const open = n ? (f: number) => n.open(dirfd, name, f) : (f: number) => openSync(at(dirfd, name), f);
  try {
    return open(flags | NOATIME);
  } catch (e) {
    // O_NOATIME is only allowed on our own files (or with CAP_FOWNER)
    if (NOATIME && (e as { code?: string }).code === "EPERM") return open(flags);
    throw e;
  }
}

/** A failed open of a directory as a problem: a symlink where a directory was is ENOTDIR (not followed). */
function notFollowed(e: unknown): FsProblem {
  const err = e as { code?: string; message?: string };
  let code = err.code ?? "EUNKNOWN";
  if (code === "ELOOP") code = "ENOTDIR";
  return { ok: false, code, message: describe(code, err.message) };
}

/** Open directory `name` of `dirfd` without following it; the descriptor, or a problem (ENOTDIR: not a directory now). */
export function openDirAt(dirfd: number, name: Uint8Array): { ok: true; fd: number } | FsProblem {
  if (!isName(name)) return { ok: false, code: "ENOENT", message: describe("ENOENT") };
  try {
    return { ok: true, fd: openAt(dirfd, name, DIR_FLAGS) };
  } catch (e) {
    return notFollowed(e);
  }
}

/** Open an area's own directory by its configured path (its last component not followed). */
export function openDirPath(path: PathBytes): { ok: true; fd: number } | FsProblem {
  const p = Buffer.from(path);
  try {
    try {
      return { ok: true, fd: openSync(p, DIR_FLAGS | NOATIME) };
    } catch (e) {
      if (NOATIME && (e as { code?: string }).code === "EPERM") return { ok: true, fd: openSync(p, DIR_FLAGS) };
      throw e;
    }
  } catch (e) {
    return notFollowed(e);
  }
}

/** The fstat of an opened directory is the entry lstat saw (same dev and inode): else why not. */
export function notTheDirSeen(fd: number, seen: { ino: bigint; dev: bigint }): string | null {
  let st: BigIntStats;
  try {
    st = fstatSync(fd, { bigint: true });
  } catch {
    return "vanished before it was listed";
  }
  return st.isDirectory() && st.ino === seen.ino && st.dev === seen.dev ? null : "replaced before it was listed";
}

/** One path component as readdir gives it: not empty, no slash, not "." or "..". */
export function isName(name: Uint8Array): boolean {
  if (name.length === 0) return false;
  if (name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e))) return false;
  return !name.includes(SLASH);
}

/** The components of `path` below `root` (path within root), as byte strings. */
export function componentsBelow(path: PathBytes, root: PathBytes): Uint8Array[] {
  const rootLike = root.length > 0 && root[root.length - 1] === SLASH;
  const start = root.length + (rootLike ? 0 : 1);
  if (start >= path.length) return [];
  const out: Uint8Array[] = [];
  let from = start;
  for (let i = start; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      out.push(path.subarray(from, i));
      from = i + 1;
    }
  }
  return out;
}

// ---- a directory seen by lstat: opened, checked, listed ------------------------

/**
 * The code of a listing refused because the directory lstat saw was replaced
 * (or became a symlink) before it could be opened: the visit is retried.
 */
export const REPLACED = "EREPLACED";

/**
 * Open directory `name` of `dirfd`, which lstat saw as `seen`, without
 * following it, and check that it is that directory (dev and inode): the
 * descriptor, or a problem (REPLACED: it is something else now).
 */
export function openSeenDir(dirfd: number, name: Uint8Array, seen: { ino: bigint; dev: bigint }): { ok: true; fd: number } | FsProblem {
  const o = openDirAt(dirfd, name);
  if (!o.ok) {
    if (o.code === "ENOENT" || o.code === "ENOTDIR") return { ok: false, code: REPLACED, message: "replaced before it was listed" };
    return o;
  }
  const why = notTheDirSeen(o.fd, seen);
  if (why) {
    closeQuietly(o.fd);
    return { ok: false, code: REPLACED, message: why };
  }
  return o;
}

/** The listing of the directory open as `fd`, names as raw bytes (non-UTF-8 names included). */
export function listFd(fd: number): Listing {
  try {
    return { ok: true, names: readdirSync(fdPath(fd), { encoding: "buffer" }) };
  } catch (e) {
    return problem(e);
  }
}

/** The same, without holding the event loop while a huge directory is read. */
export async function listFdAsync(fd: number): Promise<Listing> {
  try {
    return { ok: true, names: await readdirAsync(fdPath(fd), { encoding: "buffer" }) };
  } catch (e) {
    return problem(e);
  }
}

/** A directory's listing by a whole path (tools and tests; the walk lists by descriptor). */
export function listDir(path: PathBytes): Listing {
  try {
    return { ok: true, names: readdirSync(asBuffer(path), { encoding: "buffer" }) };
  } catch (e) {
    return problem(e);
  }
}
/**
 * A directory lstat saw as `seen`: opened (openSeenDir) and listed. fd: the
 * opened directory, handed to the caller (who closes it); null when the
 * listing failed (then nothing stays open).
 */
export function openAndList(dirfd: number, name: Uint8Array, seen: { ino: bigint; dev: bigint }): { fd: number | null; listing: Listing } {
  const o = openSeenDir(dirfd, name, seen);
  if (!o.ok) return { fd: null, listing: o };
  const listing = listFd(o.fd);
  if (listing.ok) return { fd: o.fd, listing };
  closeQuietly(o.fd);
  return { fd: null, listing };
}

/** Where a visit finds a path: its parent directory's descriptor, its name there, and release() when done. */
export interface Place {
  ok: true;
  fd: number;
  name: Buffer;
  release(): void;
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing sensible to do
  }
}

interface Held {
  fd: number;
  pins: number;
}

const DOT = Buffer.from(".");

/**
 * Directory descriptors by path, within the areas. parentOf() gives a visit
 * its path's parent directory, opened from the nearest directory already open
 * (else from the area's own path) down, one component at a time. At most
 * `keep` directories stay open between visits (least recently used closed
 * first); a pinned one (in use) is never closed.
 */
export class OpenDirs {
  private held = new Map<string, Held>();

  constructor(private readonly keep: number) {}

  /** Directories open now (pinned or kept). */
  get size(): number {
    return this.held.size;
  }

  /** The parent directory of `path` (in `area`) opened and pinned, and the path's name in it. */
  placeOf(path: PathBytes, area: PathBytes): Place | FsProblem {
    if (samePath(path, area)) return this.areaPlace(area);
    const dir = parentOf(path);
    const opened = this.open(dir, area);
    if (!opened.ok) return opened;
    const key = pathKey(dir);
    const name = Buffer.from(path.subarray(dir.length + (dir.length === 1 ? 0 : 1)));
    return { ok: true, fd: opened.fd, name, release: () => this.release(key) };
  }

  /** Keep `fd` as the directory at `path`, pinned until the returned release is called (the caller hands it over). */
  adopt(path: PathBytes, fd: number): () => void {
    const key = pathKey(path);
    const old = this.held.get(key);
    if (old && old.fd !== fd) {
      // another descriptor for the same path: keep the one in use, close the newcomer when done
      old.pins++;
      this.touch(key, old);
      return () => {
        closeQuietly(fd);
        this.release(key);
      };
    }
    this.held.set(key, { fd, pins: 1 });
    return () => this.release(key);
  }

  /** Close everything (the end of a pass). */
  closeAll(): void {
    for (const h of this.held.values()) closeQuietly(h.fd);
    this.held.clear();
  }

  /** An area's own path: its parent opened by path (the administrator's), not kept. */
  private areaPlace(area: PathBytes): Place | FsProblem {
    const root = area.length === 1 && area[0] === SLASH;
    const parent = root ? area : parentOf(area);
    let fd: number;
    try {
      fd = openSync(Buffer.from(parent), constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (e) {
      return notFollowed(e);
    }
    const name = root ? DOT : Buffer.from(area.subarray(parent.length + (parent.length === 1 ? 0 : 1)));
    return { ok: true, fd, name, release: () => closeQuietly(fd) };
  }

  private touch(key: string, h: Held): void {
    this.held.delete(key);
    this.held.set(key, h);
  }

  private release(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    h.pins--;
    this.trim();
  }

  /** Close the least recently used unpinned directories beyond `keep`. */
  private trim(): void {
    if (this.held.size <= this.keep) return;
    for (const [k, h] of this.held) {
      if (this.held.size <= this.keep) break;
      if (h.pins > 0) continue;
      closeQuietly(h.fd);
      this.held.delete(k);
    }
  }

  /** Open (or find open) directory `dir` within `area`, pinned. */
  private open(dir: PathBytes, area: PathBytes): { ok: true; fd: number } | FsProblem {
    if (!isWithin(dir, area)) return { ok: false, code: "ENOENT", message: describe("ENOENT") };
    // the nearest directory already open, at or above dir
    let base = dir;
    let found: Held | undefined;
    for (;;) {
      found = this.held.get(pathKey(base));
      if (found || samePath(base, area)) break;
      base = parentOf(base);
    }
    let cur: number;
    let curPath = base;
    if (found) {
      found.pins++;
      this.touch(pathKey(base), found);
      if (samePath(base, dir)) return { ok: true, fd: found.fd };
      cur = found.fd;
    } else {
      const r = openDirPath(area);
      if (!r.ok) return r;
      cur = r.fd;
      this.held.set(pathKey(area), { fd: cur, pins: 1 });
      if (samePath(area, dir)) return { ok: true, fd: cur };
    }
    // down from base, one component at a time; each step unpins the one above
    let prefix = Buffer.from(curPath);
    for (const name of componentsBelow(dir, base)) {
      const next = openDirAt(cur, name);
      this.release(pathKey(curPath));
      if (!next.ok) return next;
      prefix = Buffer.concat([prefix, prefix.length === 1 && prefix[0] === SLASH ? Buffer.alloc(0) : Buffer.from("/"), name]);
      curPath = prefix;
      cur = next.fd;
      this.held.set(pathKey(curPath), { fd: cur, pins: 1 });
    }
    return { ok: true, fd: cur };
  }
}
