// The I/O edge of the scanner: lstat, readdir with raw byte names, readlink,
// and paced content hashing of regular files. Nothing here throws for file
// system trouble: every outcome is a value the scanner records or reports.
import {
  closeSync, constants, fstatSync, lstatSync, openSync, read, readdirSync, readlinkSync, type BigIntStats,
} from "node:fs";
import * as fsModule from "node:fs";
import { readdir as readdirAsync } from "node:fs/promises";
import { typeOfMode, type Attrs } from "./attrs.ts";
import { asBuffer, pathKey, type PathBytes } from "./paths.ts";

export interface FsProblem {
  ok: false;
  code: string; // ENOENT, EACCES, EIO, ...
  message: string;
}

export type StatResult = { ok: true; attrs: Attrs; dev: bigint } | FsProblem;

function problem(e: unknown): FsProblem {
  const err = e as { code?: string; message?: string };
  const code = err.code ?? "EUNKNOWN";
  return { ok: false, code, message: describe(code, err.message) };
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

function describe(code: string, message?: string): string {
  const d = DESCRIPTIONS[code];
  if (d) return `${d} (${code})`;
  const first = (message ?? code).split("\n")[0].replace(/, \w+ '.*$/s, "");
  return first.includes(code) ? first : `${first} (${code})`;
}

export function attrsOf(st: BigIntStats, target: Uint8Array | null): Attrs {
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

/** lstat (never follows), plus the link target for symlinks. */
export function statEntry(path: PathBytes): StatResult {
  const p = asBuffer(path);
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

/** Directory listing with names as raw bytes (non-UTF-8 names included). */
export function listDir(path: PathBytes): { ok: true; names: Buffer[] } | FsProblem {
  try {
    return { ok: true, names: readdirSync(asBuffer(path), { encoding: "buffer" }) };
  } catch (e) {
    return problem(e);
  }
}

/** The same, without holding the event loop while a huge directory is read. */
export async function listDirAsync(path: PathBytes): Promise<{ ok: true; names: Buffer[] } | FsProblem> {
  try {
    return { ok: true, names: await readdirAsync(asBuffer(path), { encoding: "buffer" }) };
  } catch (e) {
    return problem(e);
  }
}

export type HashResult =
  | { kind: "ok"; hash: string; bytes: number; attrs: Attrs }
  | { kind: "torn"; reason: string } // changed or replaced while being read: retry later
  | { kind: "vanished" } // gone (or replaced by a non-file) before it could be opened
  | { kind: "error"; code: string; message: string }
  | { kind: "stopped" };

export interface HashOptions {
  algo: string;
  /** No byte pacing for this file (small, or full speed). */
  small: boolean;
  chunkSize(): number;
  /** Wait until `n` more bytes may be read (byte pacing); may be a no-op. */
  pace(n: number): Promise<void>;
  stopped(): boolean;
}

const BASE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const NOATIME = constants.O_NOATIME ?? 0;

function openFile(p: Buffer): number {
  try {
    return openSync(p, BASE_FLAGS | NOATIME);
  } catch (e) {
    // O_NOATIME is only allowed on files we own (or with CAP_FOWNER).
    if (NOATIME && (e as { code?: string }).code === "EPERM") return openSync(p, BASE_FLAGS);
    throw e;
  }
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

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

function sameSnapshot(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * Hash a regular file found by lstat with the given attributes. The file is
 * opened without following symlinks and without blocking (a FIFO swapped in
 * cannot hang us), checked to be the same inode and still a regular file, read
 * with positional reads in chunks (yielding to the event loop between chunks),
 * and re-checked afterwards: if anything moved, the result is "torn".
 */
export async function hashFile(path: PathBytes, seen: Attrs, seenDev: bigint, opts: HashOptions): Promise<HashResult> {
  const p = asBuffer(path);
  let fd: number;
  try {
    fd = openFile(p);
  } catch (e) {
    const pr = problem(e);
    if (pr.code === "ENOENT" || pr.code === "ELOOP" || pr.code === "ENOTDIR" || pr.code === "ENXIO") return { kind: "vanished" };
    return { kind: "error", code: pr.code, message: pr.message };
  }
  let leased = false;
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile() || before.ino !== seen.ino || before.dev !== seenDev) return { kind: "torn", reason: "replaced before it was opened" };
    if (before.size !== seen.size || before.mtimeNs !== seen.mtime || before.ctimeNs !== seen.ctime) {
      return { kind: "torn", reason: "changed before it was opened" };
    }
    const hasher = new Bun.CryptoHasher(opts.algo as "sha256");
    const total = Number(before.size);
    let pos = 0;
    const lease = takeBuffer(Math.min(Math.max(opts.small ? total + 1 : opts.chunkSize(), 4096), 1 << 20));
    leased = lease.shared;
    let buf = lease.buf;
    for (;;) {
      if (opts.stopped()) return { kind: "stopped" };
      const want = opts.small ? buf.length : Math.min(opts.chunkSize(), 1 << 20);
      if (want > buf.length) buf = Buffer.allocUnsafe(want);
      if (!opts.small) await opts.pace(Math.min(want, Math.max(0, total - pos)) || 1);
      if (opts.stopped()) return { kind: "stopped" };
      const n = await readAt(fd, buf, want, pos);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
      pos += n;
      if (pos > total) return { kind: "torn", reason: "grew while being read" };
      // at the recorded size: done (growth after this shows in the fstat below)
      if (pos === total) break;
      await yieldLoop();
    }
    const after = fstatSync(fd, { bigint: true });
    if (!sameSnapshot(before, after) || pos !== total) return { kind: "torn", reason: "changed while being read" };
    let now: BigIntStats;
    try {
      now = lstatSync(p, { bigint: true });
    } catch {
      return { kind: "torn", reason: "vanished while being read" };
    }
    if (now.ino !== before.ino || now.dev !== before.dev) return { kind: "torn", reason: "replaced while being read" };
    return { kind: "ok", hash: `${opts.algo}:${hasher.digest("hex")}`, bytes: pos, attrs: attrsOf(after, null) };
  } catch (e) {
    const pr = problem(e);
    return { kind: "error", code: pr.code, message: pr.message };
  } finally {
    if (leased) sharedBusy = false;
    try {
      closeSync(fd);
    } catch {
      // nothing sensible to do
    }
  }
}

// ---- full-speed hashing off the main thread ------------------------------------

/** The stat fields a hash result carries back (plain data: it crosses threads). */
export interface StatFields {
  mode: bigint; uid: bigint; gid: bigint; size: bigint; ino: bigint; nlink: bigint; mtimeNs: bigint; ctimeNs: bigint; rdev: bigint;
}

export type CoreResult =
  | { kind: "ok"; hash: string; bytes: number; st: StatFields }
  | { kind: "torn"; reason: string }
  | { kind: "vanished" }
  | { kind: "error"; code: string; message: string };

/**
 * The same checks as hashFile, with blocking reads, for a worker thread (where
 * blocking is harmless). Self-contained on purpose: its source text is what
 * the worker runs, so it may use only its parameters.
 */
export function hashSyncCore(
  fs: typeof import("node:fs"),
  Hasher: typeof Bun.CryptoHasher,
  path: Uint8Array,
  seen: { ino: bigint; dev: bigint; size: bigint; mtime: bigint; ctime: bigint },
  algo: string,
  buf: Buffer,
): CoreResult {
  const p = Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  const c = fs.constants;
  const base = c.O_RDONLY | c.O_NOFOLLOW | c.O_NONBLOCK;
  const noatime = c.O_NOATIME ?? 0;
  const code = (e: unknown) => (e as { code?: string }).code ?? "EUNKNOWN";
  const msg = (e: unknown) => String((e as { message?: string }).message ?? e).split("\n")[0];
  let fd: number;
  try {
    try {
      fd = fs.openSync(p, base | noatime);
    } catch (e) {
      if (!noatime || code(e) !== "EPERM") throw e;
      fd = fs.openSync(p, base);
    }
  } catch (e) {
    const k = code(e);
    if (k === "ENOENT" || k === "ELOOP" || k === "ENOTDIR" || k === "ENXIO") return { kind: "vanished" };
    return { kind: "error", code: k, message: msg(e) };
  }
  try {
    const before = fs.fstatSync(fd, { bigint: true });
    if (!before.isFile() || before.ino !== seen.ino || before.dev !== seen.dev) return { kind: "torn", reason: "replaced before it was opened" };
    if (before.size !== seen.size || before.mtimeNs !== seen.mtime || before.ctimeNs !== seen.ctime) return { kind: "torn", reason: "changed before it was opened" };
    const hasher = new Hasher(algo as "sha256");
    const total = Number(before.size);
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
      pos += n;
      if (pos > total) return { kind: "torn", reason: "grew while being read" };
      if (pos === total) break;
    }
    const after = fs.fstatSync(fd, { bigint: true });
    const same = after.ino === before.ino && after.dev === before.dev && after.size === before.size && after.mtimeNs === before.mtimeNs && after.ctimeNs === before.ctimeNs;
    if (!same || pos !== total) return { kind: "torn", reason: "changed while being read" };
    let now;
    try {
      now = fs.lstatSync(p, { bigint: true });
    } catch {
      return { kind: "torn", reason: "vanished while being read" };
    }
    if (now.ino !== before.ino || now.dev !== before.dev) return { kind: "torn", reason: "replaced while being read" };
    const st = {
      mode: after.mode, uid: after.uid, gid: after.gid, size: after.size, ino: after.ino, nlink: after.nlink,
      mtimeNs: after.mtimeNs, ctimeNs: after.ctimeNs, rdev: after.rdev,
    };
    return { kind: "ok", hash: `${algo}:${hasher.digest("hex")}`, bytes: pos, st };
  } catch (e) {
    return { kind: "error", code: code(e), message: msg(e) };
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // nothing sensible to do
    }
  }
}

/** A core result as the scanner's HashResult. */
export function fromCore(r: CoreResult): HashResult {
  if (r.kind === "ok") return { kind: "ok", hash: r.hash, bytes: r.bytes, attrs: attrsOf(r.st as unknown as BigIntStats, null) };
  if (r.kind === "error") return { kind: "error", code: r.code, message: describe(r.code, r.message) };
  return r;
}

const WORKER_SOURCE = () => `import * as fs from "node:fs";
const core = ${hashSyncCore.toString()};
const buf = Buffer.allocUnsafe(1 << 20);
// Messages are plain strings: far cheaper to pass between threads than typed arrays and bigints.
// A message holds a batch of jobs separated by \u0001; the answer holds their results.
self.onmessage = (e) => {
  postMessage(e.data.split("\u0001").map(job).join("\u0001"));
};
function job(text) {
  const [id, path, ino, dev, size, mtime, ctime, algo] = text.split("\u0000");
  const seen = { ino: BigInt(ino), dev: BigInt(dev), size: BigInt(size), mtime: BigInt(mtime), ctime: BigInt(ctime) };
  let r;
  try { r = core(fs, Bun.CryptoHasher, new Uint8Array(Buffer.from(path, "latin1")), seen, algo, buf); }
  catch (err) { r = { kind: "error", code: "EWORKER", message: String(err && err.message || err) }; }
  if (r.kind === "ok") {
    const t = r.st;
    return [id, "ok", r.hash, r.bytes, t.mode, t.uid, t.gid, t.size, t.ino, t.nlink, t.mtimeNs, t.ctimeNs, t.rdev].join("\u0000");
  }
  return [id, r.kind, r.reason || r.code || "", r.message || ""].join("\u0000");
}`;

/** A worker's answer (see WORKER_SOURCE) back as a CoreResult. */
function decode(msg: string): { id: number; r: CoreResult } {
  const f = msg.split("\u0000");
  const id = Number(f[0]);
  switch (f[1]) {
    case "ok": {
      const b = (i: number) => BigInt(f[i]);
      const st = { mode: b(4), uid: b(5), gid: b(6), size: b(7), ino: b(8), nlink: b(9), mtimeNs: b(10), ctimeNs: b(11), rdev: b(12) };
      return { id, r: { kind: "ok", hash: f[2], bytes: Number(f[3]), st } };
    }
    case "torn": return { id, r: { kind: "torn", reason: f[2] } };
    case "vanished": return { id, r: { kind: "vanished" } };
    default: return { id, r: { kind: "error", code: f[2] || "EUNKNOWN", message: f[3] ?? "" } };
  }
}

/**
 * Worker threads hashing whole files with blocking reads (for --scan-once,
 * where the main thread's event loop has nothing else to serve). If a worker
 * cannot be started, hashing falls back to the main thread.
 */
export class HashPool {
  private workers: Worker[] = [];
  private jobs = new Map<number, (r: CoreResult) => void>();
  private next = 0;
  private rr = 0;
  private broken = false;
  private readonly url: string;
  private readonly local = Buffer.allocUnsafe(1 << 20);

  constructor(size: number) {
    this.url = URL.createObjectURL(new Blob([WORKER_SOURCE()], { type: "application/javascript" }));
    try {
      for (let i = 0; i < size; i++) {
        const w = new Worker(this.url);
        w.onmessage = (e: MessageEvent) => {
          for (const one of (e.data as string).split("\u0001")) {
            const { id, r } = decode(one);
            const done = this.jobs.get(id);
            this.jobs.delete(id);
            done?.(r);
          }
        };
        w.onerror = (e) => this.fail(String((e as ErrorEvent).message ?? e));
        this.workers.push(w);
      }
    } catch (e) {
      this.fail(String((e as Error).message ?? e));
    }
  }

  private fail(why: string): void {
    if (this.broken) return;
    this.broken = true;
    for (const w of this.workers) w.terminate();
    this.workers = [];
    // jobs that were sent are answered with a retryable result
    for (const [, done] of this.jobs) done({ kind: "torn", reason: `hash worker failed (${why})` });
    this.jobs.clear();
  }

  hash(path: PathBytes, seen: Attrs, dev: bigint, algo: string): Promise<HashResult> {
    const s = { ino: seen.ino, dev, size: seen.size, mtime: seen.mtime, ctime: seen.ctime };
    if (this.broken || this.workers.length === 0) {
      return Promise.resolve(fromCore(hashSyncCore(fsModule, Bun.CryptoHasher, asBuffer(path), s, algo, this.local)));
    }
    const id = ++this.next;
    const slot = this.rr++ % this.workers.length;
    return new Promise((resolve) => {
      this.jobs.set(id, (r) => resolve(fromCore(r)));
      (this.outbox[slot] ??= []).push([id, pathKey(path), s.ino, s.dev, s.size, s.mtime, s.ctime, algo].join("\u0000"));
      if (!this.flushing) {
        this.flushing = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Jobs queued in the same tick go to a worker in one message (a message costs more than a small file). */
  private outbox: string[][] = [];
  private flushing = false;

  private flush(): void {
    this.flushing = false;
    this.outbox.forEach((jobs, i) => {
      if (jobs.length > 0) this.workers[i]?.postMessage(jobs.join("\u0001"));
    });
    this.outbox = [];
  }

  close(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    URL.revokeObjectURL(this.url);
  }
}
