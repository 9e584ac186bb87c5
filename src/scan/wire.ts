// What crosses between the main thread and the walk workers (pool.ts,
// worker.ts), both directions, encoder beside decoder. Messages are plain
// strings: far cheaper to pass between threads than typed arrays and bigints.
//
// A message to a worker is an array of jobs; its answer is an array holding,
// per job, an array of strings whose first one starts with the job's id.
// Fields are separated by NUL (the one byte no path, name or link target can
// hold); paths and names travel as latin1 text (one char per byte).
//
//   l<id> NUL dirfd NUL name NUL algo   visit entry `name` of the directory open as
//                                       dirfd, and open and list it if it is a directory
//     -> [visit] or [visit, listing]
//   s<id> NUL dirfd NUL algo NUL names  visit names in the directory open as dirfd
//     -> [id, visit, visit, ...]          (names joined by "/")
//
// Descriptors are the process's, shared by all its threads: the main thread
// keeps them open while a job uses them (dirs.ts).
//
// A visit: id NUL "S" <80 bytes> NUL ("0" | "1" target) [NUL hash kind NUL f1 NUL f2],
// or id NUL "E" NUL code NUL message. The 80 bytes are the ten numbers of an
// lstat (mode uid gid size ino nlink mtime ctime rdev dev) as raw 64-bit
// integers: turning them into decimal text and back cost more than the visit
// itself. A listing: "N" fd NUL and the names joined by "/" (fd: the directory,
// opened by the worker, now the main thread's to close), or "E" code NUL message.
import { typeOfMode, type Attrs } from "./attrs.ts";
import { pathKey } from "./paths.ts";
import { describe } from "./errors.ts";
import type { Listing } from "./facts.ts";
import type { HashResult, RawVisit, Visited } from "./reader.ts";

const NUL = "\u0000";
const SLASH = Buffer.from("/");

// ---- jobs (main thread -> worker) ----------------------------------------------

export function listJob(id: number, dirfd: number, name: Uint8Array, algo: string): string {
  return `l${id}${NUL}${dirfd}${NUL}${pathKey(name)}${NUL}${algo}`;
}

export function manyJob(id: number, dirfd: number, names: readonly Uint8Array[], algo: string): string {
  return `s${id}${NUL}${dirfd}${NUL}${algo}${NUL}${names.map(pathKey).join("/")}`;
}

export type Job =
  | { kind: "list"; id: string; dirfd: number; name: Buffer; algo: string }
  | { kind: "many"; id: string; dirfd: number; names: Buffer[]; algo: string };

export function decodeJob(text: string): Job {
  if (text.charCodeAt(0) === 108) { // l
    const [lid, dirfd, name, algo] = text.split(NUL);
    return { kind: "list", id: lid.slice(1), dirfd: Number(dirfd), name: Buffer.from(name, "latin1"), algo };
  }
  const [sid, dirfd, algo, names] = text.split(NUL);
  return { kind: "many", id: sid.slice(1), dirfd: Number(dirfd), names: names.split("/").map((n) => Buffer.from(n, "latin1")), algo };
}

/** The job id an answer belongs to. */
export function answerId(answer: string[]): number {
  const head = answer[0];
  const cut = head.indexOf(NUL);
  return Number(cut < 0 ? head : head.slice(0, cut));
}

// ---- visits (worker -> main thread) ---------------------------------------------

const bin = new BigInt64Array(10);
const binBytes = Buffer.from(bin.buffer);

export function encodeVisit(id: string, v: RawVisit): string {
  if (!v.ok) return `${id}${NUL}E${NUL}${v.code}${NUL}${v.message}`;
  const t = v.st;
  bin[0] = t.mode; bin[1] = t.uid; bin[2] = t.gid; bin[3] = t.size; bin[4] = t.ino;
  bin[5] = t.nlink; bin[6] = t.mtimeNs; bin[7] = t.ctimeNs; bin[8] = t.rdev; bin[9] = t.dev;
  let text = `${id}${NUL}S${binBytes.toString("latin1")}${NUL}${v.target ? `1${Buffer.from(v.target).toString("latin1")}` : "0"}`;
  const r = v.hash;
  if (r?.kind === "ok") text += `${NUL}ok${NUL}${r.hash}${NUL}${r.bytes}`;
  else if (r?.kind === "torn") text += `${NUL}torn${NUL}${r.reason}${NUL}`;
  else if (r?.kind === "vanished") text += `${NUL}vanished${NUL}${NUL}`;
  else if (r) text += `${NUL}error${NUL}${r.code}${NUL}${r.message}`;
  return text;
}

// scratch space for the 80 bytes of a visit's numbers
const scratch = new ArrayBuffer(80);
const scratchBytes = Buffer.from(scratch);
const signed = new BigInt64Array(scratch);
const unsigned = new BigUint64Array(scratch);

/** A worker's visit, straight into the scanner's types. */
export function decodeVisit(text: string): Visited {
  const p = text.indexOf(NUL) + 1;
  if (text[p] !== "S") {
    const f = text.slice(p + 2).split(NUL);
    const code = f[0] || "EUNKNOWN";
    return { stat: { ok: false, code, message: describe(code, f[1] ?? "") }, hash: null };
  }
  scratchBytes.write(text.slice(p + 1, p + 81), 0, 80, "latin1");
  const mode = Number(unsigned[0]);
  const f = text.slice(p + 82).split(NUL);
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

// ---- listings (worker -> main thread) --------------------------------------------

/** A listing and the descriptor of the directory listed (left open for the main thread, which closes it). */
export function encodeListing(fd: number, names: Buffer[]): string {
  const parts: Buffer[] = [];
  for (let i = 0; i < names.length; i++) {
    if (i > 0) parts.push(SLASH);
    parts.push(names[i]);
  }
  return `N${fd}${NUL}${Buffer.concat(parts).toString("latin1")}`;
}

export function encodeListingError(code: string, message: string): string {
  return `E${code}${NUL}${message}`;
}

export function decodeListing(s: string): { listing: Listing; fd: number | null } {
  const cut = s.indexOf(NUL);
  if (s[0] === "N") {
    const names = s.length === cut + 1 ? [] : s.slice(cut + 1).split("/").map((n) => Buffer.from(n, "latin1"));
    return { listing: { ok: true, names }, fd: Number(s.slice(1, cut)) };
  }
  const code = s.slice(1, cut) || "EUNKNOWN";
  return { listing: { ok: false, code, message: describe(code, s.slice(cut + 1)) }, fd: null };
}
