// The I/O edge of the scanner: lstat, readdir with raw byte names, readlink,
// and content hashing of regular files, two ways: paced and async for the
// daemon (hashFile, on the main thread), blocking for full speed (hashSync and
// visitSync, run by worker.ts, or here by the pool when it helps). An entry
// is named by its directory's descriptor and its name (dirs.ts: no path is
// resolved through a component a user could swap); a directory is opened
// without following it and checked against its lstat (dirs.ts's openSeenDir). Nothing
// here throws for file system trouble: every outcome is a value the scanner
// records or reports. (statEntry and hashFile take a whole path: for tools
// and benches, never the walk.)
//
// A hash is only ever claimed for the file lstat saw: it is opened without
// following symlinks and without blocking (a FIFO swapped in cannot hang us),
// and fstat before and after the read must agree with each other and with the
// lstat (tornBefore/tornAfter, the one copy of those checks); else the result
// is "torn" and the scanner retries later.
//
// A sparse file (sparse.ts says which, and defines its digest) is read extent
// by extent as the kernel reports them (extents.ts), its holes never read; `bytes` then counts the data read. Both ways (paced and
// blocking) use the same rule and digest, so they always agree.
import {
  constants, fstatSync, lstatSync, openSync, read, readlinkSync, readSync, type BigIntStats,
} from "node:fs";
import { yieldToLoop } from "../util/loop.ts";
import { typeOfMode, type Attrs } from "./attrs.ts";
import type { Listing, StatFields } from "./facts.ts";
import { at, closeQuietly, lstatAt, openAt } from "./dirs.ts";
import { describe, problem, rawProblem, type FsProblem } from "./errors.ts";
import { Digester, type Seen, tornBefore } from "./digest.ts";
import { planFor } from "./extents.ts";
import { asBuffer, parentOf, type PathBytes } from "./paths.ts";

export type StatResult = { ok: true; attrs: Attrs; dev: bigint } | FsProblem;


export type HashResult =
  | { kind: "ok"; hash: string; bytes: number; attrs: Attrs }
  | { kind: "torn"; reason: string } // changed or replaced while being read: retry later
  | { kind: "vanished" } // gone (or replaced by a non-file) before it could be opened
  | { kind: "error"; code: string; message: string }
  | { kind: "stopped" };

/** What a visit found: lstat (and link target), and for a regular file its hash. */
export interface Visited {
  stat: StatResult;
  hash: HashResult | null;
}

/** A visit, and for a directory its listing and its descriptor (the caller closes it; null when not opened). */
export interface Listed extends Visited {
  listing: Listing | null;
  fd: number | null;
}

/** The stat fields the scanner keeps (a BigIntStats has them all). */

export function attrsOf(st: StatFields, target: Uint8Array | null): Attrs {
  const mode = Number(st.mode);
  return {
    type: typeOfMode(mode),
    mode: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: st.size,
    ino: st.ino,
    nlink: Number(st.nlink),
    mtime: st.mtimeNs,
    ctime: st.ctimeNs,
    rdev: st.rdev,
    target,
    hash: null,
  };
}

/** lstat (never follows) of entry `name` of the directory open as `dirfd`, plus the link target for symlinks. */
export function statAt(dirfd: number, name: Uint8Array): StatResult {
  let st: StatFields & { dev: bigint };
  try {
    st = lstatAt(dirfd, name);
  } catch (e) {
    return problem(e);
  }
  let target: Uint8Array | null = null;
  if (typeOfMode(Number(st.mode)) === "symlink") {
    try {
      target = new Uint8Array(readlinkSync(at(dirfd, name), { encoding: "buffer" }));
    } catch (e) {
      return problem(e);
    }
  }
  return { ok: true, attrs: attrsOf(st, target), dev: st.dev };
}

/**
 * The same by a whole path, for tools and benches that name a file
 * themselves (the walk never does: a path's components could be swapped).
 */
export function statEntry(path: PathBytes): StatResult {
  return statPath(asBuffer(path));
}

function statPath(p: Buffer): StatResult {
  let st: BigIntStats;
  try {
    st = lstatSync(p, { bigint: true });
  } catch (e) {
    return problem(e);
  }
  let target: Uint8Array | null = null;
  if (typeOfMode(Number(st.mode)) === "symlink") {
    try {
      target = new Uint8Array(readlinkSync(p, { encoding: "buffer" }));
    } catch (e) {
      return problem(e);
    }
  }
  return { ok: true, attrs: attrsOf(st, target), dev: st.dev };
}

// ---- the checks around every hash ----------------------------------------------


const BASE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Open entry `name` of `dirfd` for hashing: no symlink followed, no blocking; O_NOATIME where allowed. Throws. */
/**
 * Open a file for hashing: its descriptor, or what the failure means —
 * "vanished" (the name no longer leads to a regular file we may open) or an
 * error, in `describe`'s words or raw (a worker's answer).
 */
function openForHash(dirfd: number, name: Uint8Array, raw: boolean): number | { kind: "vanished" } | { kind: "error"; code: string; message: string } {
  try {
    return openAt(dirfd, name, BASE_FLAGS);
  } catch (e) {
    const pr = raw ? rawProblem(e) : problem(e);
    return openFailed(pr.code) ? { kind: "vanished" } : { kind: "error", code: pr.code, message: pr.message };
  }
}

/** The open failed: the path no longer names a regular file we may open ("vanished"), or an error. */
function openFailed(code: string): boolean {
  return code === "ENOENT" || code === "ELOOP" || code === "ENOTDIR" || code === "ENXIO";
}

// ---- paced hashing (the daemon) ---------------------------------------------------

export interface HashOptions {
  algo: string;
  /** No byte pacing for this file (small, or full speed). */
  small: boolean;
  chunkSize(): number;
  /** Wait until `n` more bytes may be read (byte pacing); may be a no-op. */
  pace(n: number): Promise<void>;
  stopped(): boolean;
}

function readAt(fd: number, buf: Buffer, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

// One reusable read buffer (a scanner hashes one file at a time); a second
// concurrent hash gets its own.
let shared: Buffer | null = null;
let sharedBusy = false;
function takeBuffer(size: number): { buf: Buffer; shared: boolean } {
  if (sharedBusy) return { buf: Buffer.allocUnsafe(size), shared: false };
  sharedBusy = true;
  if (!shared || shared.length < size) shared = Buffer.allocUnsafe(Math.max(size, 1 << 16));
  return { buf: shared, shared: true };
}

/**
 * Hash a regular file found by lstat with the given attributes, read with
 * positional reads in chunks (paced, yielding to the event loop between
 * chunks), checked before and after (see the header), and finally lstat'ed
 * again: a file renamed over the path meanwhile makes the result "torn".
 */
export async function hashFileAt(dirfd: number, name: Uint8Array, seen: Attrs, seenDev: bigint, opts: HashOptions): Promise<HashResult> {
  const fd = openForHash(dirfd, name, false);
  if (typeof fd !== "number") return fd;
  let leased = false;
  try {
    const before = fstatSync(fd, { bigint: true });
    const early = tornBefore(before, { ino: seen.ino, dev: seenDev, size: seen.size, mtime: seen.mtime, ctime: seen.ctime });
    if (early) return { kind: "torn", reason: early };
    const plan = planFor(fd, before);
    if ("unread" in plan) return { kind: "error", code: "ESPARSE", message: plan.unread };
    const d = new Digester(plan, before, opts.algo);
    const lease = takeBuffer(Math.min(Math.max(opts.small ? d.total + 1 : opts.chunkSize(), 4096), 1 << 20));
    leased = lease.shared;
    let buf = lease.buf;
    let range = d.first();
    while (range) {
      let pos = range.start;
      for (;;) {
        if (opts.stopped()) return { kind: "stopped" };
        const want = Math.min(opts.small ? buf.length : Math.min(opts.chunkSize(), 1 << 20), plan.sparse ? range.end - pos : Infinity);
        if (want > buf.length) buf = Buffer.allocUnsafe(want);
        if (!opts.small) await opts.pace(Math.min(want, Math.max(0, range.end - pos)) || 1);
        if (opts.stopped()) return { kind: "stopped" };
        const n = want > 0 ? await readAt(fd, buf, want, pos) : 0;
        if (n === 0) break;
        pos += n;
        const grew = d.add(buf.subarray(0, n), pos);
        if (grew) return { kind: "torn", reason: grew };
        // at the recorded size (or the extent's end): done (growth after this shows in the fstat below)
        if (pos === range.end) break;
        await yieldToLoop();
      }
      const next = d.after(range, pos);
      if ("torn" in next) return { kind: "torn", reason: next.torn };
      range = next.next;
    }
    const done = d.finish(fd);
    if ("torn" in done) return { kind: "torn", reason: done.torn };
    const after = done.after;
    let now: StatFields & { dev: bigint };
    try {
      now = lstatAt(dirfd, name);
    } catch {
      return { kind: "torn", reason: "vanished while being read" };
    }
    if (now.ino !== before.ino || now.dev !== before.dev) return { kind: "torn", reason: "replaced while being read" };
    return { kind: "ok", hash: done.hash, bytes: d.read, attrs: attrsOf(after, null) };
  } catch (e) {
    const pr = problem(e);
    return { kind: "error", code: pr.code, message: pr.message };
  } finally {
    if (leased) sharedBusy = false;
    closeQuietly(fd);
  }
}

/** hashFileAt by a whole path (tools and benches; its directory is opened by path). */
export async function hashFile(path: PathBytes, seen: Attrs, seenDev: bigint, opts: HashOptions): Promise<HashResult> {
  const dir = parentOf(path);
  let dirfd: number;
  try {
    dirfd = openSync(asBuffer(dir), constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    const pr = problem(e);
    return { kind: "error", code: pr.code, message: pr.message };
  }
  try {
    return await hashFileAt(dirfd, path.subarray(dir.length + (dir.length === 1 ? 0 : 1)), seen, seenDev, opts);
  } finally {
    closeQuietly(dirfd);
  }
}

// ---- blocking visits (full speed: worker threads, or the main thread helping) -----

/** A blocking hash's result as it crosses threads: raw stat fields, an error's raw message. */
export type RawHash =
  | { kind: "ok"; hash: string; bytes: number; st: StatFields }
  | { kind: "torn"; reason: string }
  | { kind: "vanished" }
  | { kind: "error"; code: string; message: string };

/** A blocking visit's result: lstat (dev included), link target, and a regular file's hash. */
export type RawVisit =
  | { ok: true; st: StatFields & { dev: bigint }; target: Uint8Array | null; hash: RawHash | null }
  | { ok: false; code: string; message: string };

/**
 * hashFile with blocking reads into `buf` and no pacing, for a thread where
 * blocking is harmless. No lstat of the path again at the end: if another
 * file was renamed over it meanwhile, the hash still belongs to the inode
 * recorded with it, and the next visit sees the new one.
 */
export function hashSync(dirfd: number, name: Uint8Array, seen: Seen, algo: string, buf: Buffer): RawHash {
  const fd = openForHash(dirfd, name, true);
  if (typeof fd !== "number") return fd;
  try {
    const before = fstatSync(fd, { bigint: true });
    const early = tornBefore(before, seen);
    if (early) return { kind: "torn", reason: early };
    const plan = planFor(fd, before);
    if ("unread" in plan) return { kind: "error", code: "ESPARSE", message: plan.unread };
    const d = new Digester(plan, before, algo);
    let range = d.first();
    while (range) {
      let pos = range.start;
      for (;;) {
        const want = plan.sparse ? Math.min(buf.length, range.end - pos) : buf.length;
        const n = want > 0 ? readSync(fd, buf, 0, want, pos) : 0;
        if (n === 0) break;
        pos += n;
        const grew = d.add(buf.subarray(0, n), pos);
        if (grew) return { kind: "torn", reason: grew };
        if (pos === range.end) break;
      }
      const next = d.after(range, pos);
      if ("torn" in next) return { kind: "torn", reason: next.torn };
      range = next.next;
    }
    const done = d.finish(fd);
    if ("torn" in done) return { kind: "torn", reason: done.torn };
    return { kind: "ok", hash: done.hash, bytes: d.read, st: done.after };
  } catch (e) {
    return { kind: "error", ...rawProblem(e) };
  } finally {
    closeQuietly(fd);
  }
}

/** lstat, readlink a symlink, hash a regular file: the whole visit of entry `name` of `dirfd`, blocking. */
export function visitSync(dirfd: number, name: Uint8Array, algo: string, buf: Buffer): RawVisit {
  let st: StatFields & { dev: bigint };
  try {
    st = lstatAt(dirfd, name);
  } catch (e) {
    return { ok: false, ...rawProblem(e) };
  }
  const kind = Number(st.mode) & 0o170000;
  let target: Uint8Array | null = null;
  if (kind === 0o120000) {
    try {
      target = new Uint8Array(readlinkSync(at(dirfd, name), { encoding: "buffer" }));
    } catch (e) {
      return { ok: false, ...rawProblem(e) };
    }
  }
  const hash = kind === 0o100000 ? hashSync(dirfd, name, { ino: st.ino, dev: st.dev, size: st.size, mtime: st.mtimeNs, ctime: st.ctimeNs }, algo, buf) : null;
  return { ok: true, st, target, hash };
}

/** A blocking visit as the scanner's stat and hash results (on the thread that ran it). */
export function toVisited(r: RawVisit): Visited {
  if (!r.ok) return { stat: { ok: false, code: r.code, message: describe(r.code, r.message) }, hash: null };
  const attrs = attrsOf(r.st, r.target);
  const h = r.hash;
  let hash: HashResult | null;
  if (h?.kind === "ok") hash = { kind: "ok", hash: h.hash, bytes: h.bytes, attrs: attrsOf(h.st, null) };
  else if (h?.kind === "error") hash = { kind: "error", code: h.code, message: describe(h.code, h.message) };
  else hash = h;
  return { stat: { ok: true, attrs, dev: r.st.dev }, hash };
}

