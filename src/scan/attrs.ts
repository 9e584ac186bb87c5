// What is recorded per entry, how two records are compared, and the report
// text. Pure: no I/O, no clock.
import { formatBytes, formatMillis } from "../util/duration.ts";
import { escapeBytes } from "../util/escape.ts";
import { hashAlgorithm } from "./sparse.ts";

export const TYPES = ["file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev", "unknown"] as const;
export type EntryType = (typeof TYPES)[number];

export interface Attrs {
  type: EntryType;
  mode: number; // mode & 0o7777 (incl. setuid/setgid/sticky)
  uid: number;
  gid: number;
  size: bigint;
  ino: bigint;
  nlink: number;
  mtime: bigint; // ns
  ctime: bigint; // ns
  rdev: bigint;
  target: Uint8Array | null; // symlinks
  hash: string | null; // "algo:hex", regular files
}

export type AttrName = "type" | "mode" | "uid" | "gid" | "size" | "ino" | "nlink" | "mtime" | "ctime" | "rdev" | "target" | "hash";

/** S_IFMT of a st_mode to our type name. */
export function typeOfMode(mode: number): EntryType {
  switch (mode & 0o170000) {
    case 0o100000: return "file";
    case 0o040000: return "dir";
    case 0o120000: return "symlink";
    case 0o010000: return "fifo";
    case 0o140000: return "socket";
    case 0o020000: return "chardev";
    case 0o060000: return "blockdev";
    default: return "unknown";
  }
}

/**
 * Attributes compared per type. Directories leave out size, nlink, mtime and
 * ctime: they change with every file created or removed inside, which is
 * already reported as New:/Deleted: of that file. Symlink times are left out
 * (a changed target is what matters and is compared byte for byte).
 */
const COMPARED: Record<EntryType, readonly AttrName[]> = {
  file: ["type", "mode", "uid", "gid", "size", "ino", "nlink", "mtime", "ctime", "hash"],
  dir: ["type", "mode", "uid", "gid", "ino"],
  symlink: ["type", "uid", "gid", "ino", "target"],
  fifo: ["type", "mode", "uid", "gid", "ino", "nlink"],
  socket: ["type", "mode", "uid", "gid", "ino"],
  chardev: ["type", "mode", "uid", "gid", "ino", "nlink", "rdev"],
  blockdev: ["type", "mode", "uid", "gid", "ino", "nlink", "rdev"],
  unknown: ["type", "mode", "uid", "gid", "ino"],
};

const ORDER: readonly AttrName[] = ["type", "mode", "uid", "gid", "size", "ino", "nlink", "mtime", "ctime", "rdev", "target", "hash"];

function sameValue(a: Attrs, b: Attrs, k: AttrName): boolean {
  const x = a[k], y = b[k];
  if (x instanceof Uint8Array || y instanceof Uint8Array) {
    if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array)) return false;
    return Buffer.compare(x, y) === 0;
  }
  return x === y;
}

export interface Difference {
  attr: AttrName;
  before: string;
  after: string;
}

/**
 * The attributes that differ between an old and a new record, in a fixed
 * order. A hash that is unknown on either side (not read yet, unreadable) is
 * not a difference: a change is never claimed without having read both.
 */
export function compareAttrs(before: Attrs, after: Attrs): Difference[] {
  const keys = new Set<AttrName>([...COMPARED[before.type], ...COMPARED[after.type]]);
  const out: Difference[] = [];
  for (const k of ORDER) {
    if (!keys.has(k)) continue;
    if (k === "hash" && before.type === after.type) {
      if (before.hash === null || after.hash === null) continue;
      // a different algorithm (config change) is a new baseline, not a change
      // (a sparse digest is of its algorithm too: sparse.ts)
      if (hashAlgorithm(before.hash) !== hashAlgorithm(after.hash)) continue;
    }
    if (sameValue(before, after, k)) continue;
    if (k === "mtime" || k === "ctime") {
      // to the second, unless the two differ only below it
      const precise = before[k] / 1_000_000_000n === after[k] / 1_000_000_000n;
      out.push({ attr: k, before: formatTime(before[k], precise), after: formatTime(after[k], precise) });
    } else out.push({ attr: k, before: showAttr(before, k), after: showAttr(after, k) });
  }
  return out;
}

export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** ns since the epoch → 2026-11-25T22:08:27.123456789Z, or to the second (2026-11-25T22:08:27Z) unless `precise` */
export function formatTime(ns: bigint, precise = true): string {
  const neg = ns < 0n;
  const sec = neg ? -((-ns + 999_999_999n) / 1_000_000_000n) : ns / 1_000_000_000n;
  const frac = ns - sec * 1_000_000_000n;
  const d = new Date(Number(sec) * 1000);
  if (Number.isNaN(d.getTime())) return `${ns}ns`;
  return d.toISOString().replace(/\.\d{3}Z$/, precise ? `.${frac.toString().padStart(9, "0")}Z` : "Z");
}

export function formatDev(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

export function showAttr(a: Attrs, k: AttrName): string {
  switch (k) {
    case "type": return a.type;
    case "mode": return formatMode(a.mode);
    case "uid": case "gid": case "nlink": return String(a[k]);
    case "size": case "ino": return a[k].toString();
    case "mtime": case "ctime": return formatTime(a[k]);
    case "rdev": return formatDev(a.rdev);
    case "target": return a.target === null ? "(none)" : escapeBytes(a.target);
    case "hash": return a.hash ?? "(none)";
  }
}

/** JSON-safe form (history table, event details). */
export function attrsJson(a: Attrs): Record<string, unknown> {
  return {
    type: a.type, mode: formatMode(a.mode), uid: a.uid, gid: a.gid, size: a.size.toString(),
    ino: a.ino.toString(), nlink: a.nlink, mtime: a.mtime.toString(), ctime: a.ctime.toString(),
    ...(a.type === "chardev" || a.type === "blockdev" ? { rdev: formatDev(a.rdev) } : {}),
    ...(a.target !== null ? { target: escapeBytes(a.target), target_hex: Buffer.from(a.target).toString("hex") } : {}),
    ...(a.hash !== null ? { hash: a.hash } : {}),
  };
}

// ---- report text -------------------------------------------------------------

export function newText(shown: string, a: Attrs): string {
  const parts = [a.type, formatMode(a.mode), `${a.uid}:${a.gid}`];
  if (a.type === "file") parts.push(`${a.size} bytes`);
  if (a.type === "symlink" && a.target) parts.push(`-> ${escapeBytes(a.target)}`);
  if (a.type === "chardev" || a.type === "blockdev") parts.push(formatDev(a.rdev));
  return `New: ${shown}\n  ${parts.join(", ")}`;
}

/**
 * ctime is shown only when nothing else changed: then it is the only trace
 * (content swapped and restored between two checks); beside other changes it
 * says nothing more. The JSON details keep every difference.
 */
export function changedText(shown: string, diffs: readonly Difference[], note?: string): string {
  const lines = [`Changed: ${shown}`];
  const alone = diffs.every((d) => d.attr === "ctime");
  for (const d of diffs) if (alone || d.attr !== "ctime") lines.push(`  ${d.attr}: ${d.before} => ${d.after}`);
  if (note) lines.push(`  ${note}`);
  return lines.join("\n");
}

/** below: how many recorded entries under a deleted directory went with it. */
export function deletedText(shown: string, type: EntryType, below: number): string {
  if (below > 0) return `Deleted: ${shown} (${type} with ${below} ${below === 1 ? "entry" : "entries"} below it)`;
  return `Deleted: ${shown}`;
}

export function errorText(shown: string, problem: string): string {
  return `Error: ${shown}: ${problem}`;
}

export function baselineText(entries: number, files: number, bytes: number, ms: number): string {
  return `Baseline: recorded ${entries} entries (${files} files, ${formatBytes(bytes)}) in ${formatMillis(ms)}`;
}
