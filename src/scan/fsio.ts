// The I/O edge of the scanner: lstat, readdir with raw byte names, readlink,
// and paced content hashing of regular files. Nothing here throws for file
// system trouble: every outcome is a value the scanner records or reports.
import {
  closeSync, constants, fstatSync, lstatSync, openSync, read, readdirSync, readlinkSync, type BigIntStats,
} from "node:fs";
import * as fsModule from "node:fs";
import { readdir as readdirAsync } from "node:fs/promises";
import { log } from "../util/log.ts";
import { yieldToLoop } from "../util/loop.ts";
import { typeOfMode, type Attrs } from "./attrs.ts";
import { asBuffer, joinPath, pathKey, type PathBytes } from "./paths.ts";

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
      await yieldToLoop();
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
    // (no lstat of the path again: if another file was renamed over it
    // meanwhile, the hash still belongs to the inode recorded with it, and the
    // next visit sees the new one)
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

/** What a worker found at a path: its lstat (and link target), and for a regular file its hash. */
export type VisitCoreResult =
  | { ok: true; st: StatFields & { dev: bigint }; target: Uint8Array | null; hash: CoreResult | null }
  | { ok: false; code: string; message: string };

/**
 * lstat a path and, for a regular file, hash it with hashSyncCore (passed in as
 * `core`): the whole visit of an entry in one trip to a worker thread. Self-
 * contained like hashSyncCore: its source text is what the worker runs.
 */
export function visitSyncCore(
  fs: typeof import("node:fs"),
  Hasher: typeof Bun.CryptoHasher,
  core: typeof hashSyncCore,
  path: Uint8Array,
  algo: string,
  buf: Buffer,
): VisitCoreResult {
  const p = Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  const failed = (e: unknown): VisitCoreResult => {
    const err = e as { code?: string; message?: string };
    return { ok: false, code: err.code ?? "EUNKNOWN", message: String(err.message ?? e).split("\n")[0] };
  };
  let st;
  try {
    st = fs.lstatSync(p, { bigint: true });
  } catch (e) {
    return failed(e);
  }
  const kind = Number(st.mode) & 0o170000;
  let target: Uint8Array | null = null;
  if (kind === 0o120000) {
    try {
      target = new Uint8Array(fs.readlinkSync(p, { encoding: "buffer" }));
    } catch (e) {
      return failed(e);
    }
  }
  const hash = kind === 0o100000 ? core(fs, Hasher, path, { ino: st.ino, dev: st.dev, size: st.size, mtime: st.mtimeNs, ctime: st.ctimeNs }, algo, buf) : null;
  return { ok: true, st, target, hash };
}

/** A worker's visit as the scanner's stat result (lstat attributes) and hash result. */
export function fromVisitCore(r: VisitCoreResult): Visited {
  if (!r.ok) return { stat: { ok: false, code: r.code, message: describe(r.code, r.message) }, hash: null };
  const attrs = attrsOf(r.st as unknown as BigIntStats, r.target);
  return { stat: { ok: true, attrs, dev: r.st.dev }, hash: r.hash ? fromCore(r.hash) : null };
}

const WORKER_SOURCE = () => `import * as fs from "node:fs";
const core = ${hashSyncCore.toString()};
const visitCore = ${visitSyncCore.toString()};
const buf = Buffer.allocUnsafe(1 << 20);
// Messages are plain strings: far cheaper to pass between threads than typed
// arrays and bigints. A message is an array of jobs, fields separated by NUL
// (the one byte no path, name or link target can hold); the answer is an array
// holding, per job, an array of strings whose first one starts with the job's id.
// Jobs: l<id> visit a path (lstat, readlink a symlink, hash a regular file) and
// list it if it is a directory; s<id> visit names in a directory.
self.onmessage = (e) => {
  postMessage(e.data.map(job));
};
const NUL = "\u0000";
function job(text) {
  return text.charCodeAt(0) === 108 ? listJob(text) : manyJob(text); // l or s
}
// The ten numbers of an lstat go as 80 raw bytes (latin1 text): turning
// 64-bit integers into decimal text and back cost more than the visit itself.
const bin = new BigInt64Array(10);
const binBytes = Buffer.from(bin.buffer);
// one visit as text (see decodeVisit); dir: whether it is a directory
function visit(id, path, algo) {
  let v;
  try { v = visitCore(fs, Bun.CryptoHasher, core, path, algo, buf); }
  catch (err) { v = { ok: false, code: "EWORKER", message: String(err && err.message || err) }; }
  if (!v.ok) return { text: id + NUL + "E" + NUL + v.code + NUL + v.message, dir: false };
  const t = v.st;
  bin[0] = t.mode; bin[1] = t.uid; bin[2] = t.gid; bin[3] = t.size; bin[4] = t.ino;
  bin[5] = t.nlink; bin[6] = t.mtimeNs; bin[7] = t.ctimeNs; bin[8] = t.rdev; bin[9] = t.dev;
  let text = id + NUL + "S" + binBytes.toString("latin1") + NUL + (v.target ? "1" + Buffer.from(v.target).toString("latin1") : "0");
  const dir = (Number(t.mode) & 0o170000) === 0o040000;
  const r = v.hash;
  if (r && r.kind === "ok") text += NUL + "ok" + NUL + r.hash + NUL + r.bytes;
  else if (r) text += NUL + r.kind + NUL + (r.reason || r.code || "") + NUL + (r.message || "");
  return { text, dir };
}
// a directory's listing: "N" and the names joined by "/" (the byte no name holds), or "E" code NUL message
function listJob(text) {
  const [lid, path, algo] = text.split(NUL);
  const p = Buffer.from(path, "latin1");
  const v = visit(lid.slice(1), p, algo);
  if (!v.dir) return [v.text];
  let listing;
  try {
    const names = fs.readdirSync(p, { encoding: "buffer" });
    const parts = [];
    for (let i = 0; i < names.length; i++) { if (i > 0) parts.push(SLASH); parts.push(names[i]); }
    listing = "N" + Buffer.concat(parts).toString("latin1");
  } catch (err) {
    listing = "E" + (err && err.code || "EUNKNOWN") + NUL + String(err && err.message || err).split("\\n")[0];
  }
  return [v.text, listing];
}
const SLASH = Buffer.from("/");
function manyJob(text) {
  const [sid, dir, algo, names] = text.split(NUL);
  const out = [sid.slice(1)];
  const base = dir.endsWith("/") ? dir : dir + "/";
  for (const name of names.split("/")) out.push(visit("", Buffer.from(base + name, "latin1"), algo).text);
  return out;
}`;

/** What a visit found: lstat (and link target), and for a regular file its hash. */
export interface Visited {
  stat: StatResult;
  hash: HashResult | null;
}

/** A visit, and for a directory its listing. */
export interface Listed extends Visited {
  listing: { ok: true; names: Buffer[] } | FsProblem | null;
}

function decodeListing(s: string): { ok: true; names: Buffer[] } | FsProblem {
  if (s[0] === "N") return { ok: true, names: s.length === 1 ? [] : s.slice(1).split("/").map((n) => Buffer.from(n, "latin1")) };
  const cut = s.indexOf("\u0000");
  const code = s.slice(1, cut) || "EUNKNOWN";
  return { ok: false, code, message: describe(code, s.slice(cut + 1)) };
}

// scratch space for the 80 bytes of a visit answer's numbers (see visit in WORKER_SOURCE)
const scratch = new ArrayBuffer(80);
const scratchBytes = Buffer.from(scratch);
const signed = new BigInt64Array(scratch);
const unsigned = new BigUint64Array(scratch);

/** A worker's answer to a visit job (see visit in WORKER_SOURCE), straight into the scanner's types. */
function decodeVisit(text: string): Visited {
  const p = text.indexOf("\u0000") + 1;
  if (text[p] !== "S") {
    const f = text.slice(p + 2).split("\u0000");
    const code = f[0] || "EUNKNOWN";
    return { stat: { ok: false, code, message: describe(code, f[1] ?? "") }, hash: null };
  }
  scratchBytes.write(text.slice(p + 1, p + 81), 0, 80, "latin1");
  const mode = Number(unsigned[0]);
  const f = text.slice(p + 82).split("\u0000");
  const attrs: Attrs = {
    type: typeOfMode(mode),
    mode: mode & 0o7777,
    uid: Number(unsigned[1]),
    gid: Number(unsigned[2]),
    size: unsigned[3],
    ino: unsigned[4],
    nlink: Number(unsigned[5]),
    mtime: signed[6],
    ctime: signed[7],
    rdev: unsigned[8],
    target: f[0][0] === "1" ? new Uint8Array(Buffer.from(f[0].slice(1), "latin1")) : null,
    hash: null,
  };
  const dev = unsigned[9];
  let hash: HashResult | null = null;
  switch (f[1]) {
    case undefined: break;
    // the worker's fstat before and after the read matched this lstat (size, times, inode)
    case "ok": hash = { kind: "ok", hash: f[2], bytes: Number(f[3]), attrs }; break;
    case "torn": hash = { kind: "torn", reason: f[2] }; break;
    case "vanished": hash = { kind: "vanished" }; break;
    default: hash = { kind: "error", code: f[2] || "EUNKNOWN", message: describe(f[2] || "EUNKNOWN", f[3] ?? "") };
  }
  return { stat: { ok: true, attrs, dev }, hash };
}

/** With help: jobs a worker holds before the caller takes the next one itself. */
const WORKER_QUEUE = 8;

/**
 * Worker threads that lstat and hash whole files with blocking calls (for
 * --scan-once, where the main thread's event loop has nothing else to serve).
 * Each job goes to the worker with the fewest jobs outstanding, so one huge
 * file holds up only its own worker. With `help`, the calling thread takes a
 * share too: a job finding every worker already WORKER_QUEUE jobs deep waits
 * in a local queue; the caller runs those one per event-loop turn (between its
 * own work), and hands them back to a worker that runs short. One JavaScript
 * engine fewer than a worker per core (its compiler and collector threads
 * included) is about 7% less CPU for a pass. If a worker cannot be started or
 * dies, the work falls back to the main thread.
 */
export class HashPool {
  private workers: Worker[] = [];
  private outstanding: number[] = [];
  /** jobs waiting for a worker or for the caller (help) */
  private waiting: { job: (id: number) => string; answer: (a: string[] | null) => void; here: () => void }[] = [];
  private helping = false;
  /** Jobs the caller ran itself (help). */
  ranHere = 0;
  /** id -> the job's answer (null: the worker failed; redo the job here) */
  private jobs = new Map<number, (answer: string[] | null) => void>();
  private next = 0;
  private broken = false;
  private readonly url: string;
  private readonly local = Buffer.allocUnsafe(1 << 20);

  constructor(size: number, private readonly help = false) {
    this.url = URL.createObjectURL(new Blob([WORKER_SOURCE()], { type: "application/javascript" }));
    try {
      for (let i = 0; i < size; i++) {
        const w = new Worker(this.url);
        w.onmessage = (e: MessageEvent) => {
          const answers = e.data as string[][];
          this.outstanding[i] -= answers.length;
          this.refill();
          for (const a of answers) {
            const head = a[0];
            const cut = head.indexOf("\u0000");
            const id = Number(cut < 0 ? head : head.slice(0, cut));
            const done = this.jobs.get(id);
            this.jobs.delete(id);
            done?.(a);
          }
        };
        w.onerror = (e) => this.fail(String((e as ErrorEvent).message ?? e));
        this.workers.push(w);
        this.outstanding.push(0);
      }
    } catch (e) {
      this.fail(String((e as Error).message ?? e));
    }
  }

  private fail(why: string): void {
    if (this.broken) return;
    this.broken = true;
    log.warn(`scan: hash worker failed (${why}); hashing on the main thread`);
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.outbox = [];
    // jobs that were sent are redone here
    const pending = [...this.jobs.values(), ...this.waiting.map((w) => w.answer)];
    this.jobs.clear();
    this.waiting = [];
    for (const done of pending) done(null);
  }

  private leastBusy(): number {
    let slot = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.outstanding[i] < this.outstanding[slot]) slot = i;
    return slot;
  }

  /** here: the same job run on this thread (help), resolving the same promise */
  private send(job: (id: number) => string, answer: (answer: string[] | null) => void, here: () => void): void {
    if (this.help && this.outstanding[this.leastBusy()] >= WORKER_QUEUE) {
      this.waiting.push({ job, answer, here });
      this.helpSoon();
      return;
    }
    this.post(job, answer);
  }

  private post(job: (id: number) => string, answer: (answer: string[] | null) => void): void {
    const id = ++this.next;
    const slot = this.leastBusy();
    this.outstanding[slot]++;
    this.jobs.set(id, answer);
    (this.outbox[slot] ??= []).push(job(id));
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** lstat a path (and readlink a symlink, hash a regular file), and list it if it is a directory. */
  list(path: PathBytes, algo: string): Promise<Listed> {
    const here = (): Listed => {
      const v = fromVisitCore(visitSyncCore(fsModule, Bun.CryptoHasher, hashSyncCore, asBuffer(path), algo, this.local));
      if (!v.stat.ok || v.stat.attrs.type !== "dir") return { ...v, listing: null };
      return { ...v, listing: listDir(path) };
    };
    if (this.broken || this.workers.length === 0) return Promise.resolve(here());
    return new Promise((resolve) => {
      this.send(
        (id) => `l${id}\u0000${pathKey(path)}\u0000${algo}`,
        (a) => resolve(a ? { ...decodeVisit(a[0]), listing: a.length > 1 ? decodeListing(a[1]) : null } : here()),
        () => resolve(here()),
      );
    });
  }

  /** lstat (readlink, hash) each of the names in a directory (a few dozen: one job). */
  visitMany(dir: PathBytes, names: readonly Uint8Array[], algo: string): Promise<Visited[]> {
    const here = () => names.map((n) => fromVisitCore(visitSyncCore(fsModule, Bun.CryptoHasher, hashSyncCore, asBuffer(joinPath(dir, n)), algo, this.local)));
    if (names.length === 0) return Promise.resolve([]);
    if (this.broken || this.workers.length === 0) return Promise.resolve(here());
    return new Promise((resolve) => {
      this.send(
        (id) => `s${id}\u0000${pathKey(dir)}\u0000${algo}\u0000${names.map(pathKey).join("/")}`,
        (a) => resolve(a ? a.slice(1).map(decodeVisit) : here()),
        () => resolve(here()),
      );
    });
  }

  /** A worker answered: give it waiting jobs while it is short of work. */
  private refill(): void {
    while (this.waiting.length > 0 && this.workers.length > 0 && this.outstanding[this.leastBusy()] < WORKER_QUEUE) {
      const w = this.waiting.shift()!;
      this.post(w.job, w.answer);
    }
  }

  /** Run one waiting job here on the next event-loop turn (answers and the caller's own work come first). */
  private helpSoon(): void {
    if (this.helping) return;
    this.helping = true;
    setImmediate(() => {
      this.helping = false;
      const w = this.waiting.shift();
      if (!w) return;
      this.ranHere++;
      w.here();
      if (this.waiting.length > 0) this.helpSoon();
    });
  }

  /** Jobs queued in the same tick go to a worker in one message (a message costs more than a small file). */
  private outbox: string[][] = [];
  private flushing = false;

  private flush(): void {
    this.flushing = false;
    this.outbox.forEach((jobs, i) => {
      if (jobs.length > 0) this.workers[i]?.postMessage(jobs);
    });
    this.outbox = [];
  }

  close(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    URL.revokeObjectURL(this.url);
  }
}
