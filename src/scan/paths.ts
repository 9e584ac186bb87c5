// Paths as raw bytes. File names may hold any byte but '/' and NUL, so paths are
// kept as Uint8Array end to end (SQLite BLOBs) and only escaped for reports.
import { escapeBytes } from "../util/escape.ts";

const SLASH = 0x2f;

export type PathBytes = Uint8Array;

// Paths made here are Buffers (a Uint8Array subclass), so pathKey needs no copy.

export function pathFrom(s: string): PathBytes {
  return Buffer.from(s, "utf8");
}

/** Printable form for reports: control and invalid UTF-8 bytes escaped. */
export function showPath(p: PathBytes): string {
  return escapeBytes(p);
}

export function joinPath(dir: PathBytes, name: Uint8Array): PathBytes {
  const rootLike = dir.length > 0 && dir[dir.length - 1] === SLASH;
  const out = Buffer.allocUnsafe(dir.length + (rootLike ? 0 : 1) + name.length);
  out.set(dir, 0);
  if (!rootLike) out[dir.length] = SLASH;
  out.set(name, dir.length + (rootLike ? 0 : 1));
  return out;
}

/** The directory holding p ("/" for "/x"); "" for "/" itself. */
export function parentOf(p: PathBytes): PathBytes {
  if (p.length <= 1) return new Uint8Array(0);
  const i = p.lastIndexOf(SLASH);
  if (i <= 0) return new Uint8Array([SLASH]);
  return p.subarray(0, i);
}

export function samePath(a: PathBytes, b: PathBytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** p is root itself or below it (by whole path components). */
export function isWithin(p: PathBytes, root: PathBytes): boolean {
  if (root.length === 1 && root[0] === SLASH) return p.length > 0 && p[0] === SLASH;
  if (p.length < root.length) return false;
  for (let i = 0; i < root.length; i++) if (p[i] !== root[i]) return false;
  return p.length === root.length || p[root.length] === SLASH;
}

/**
 * Byte range [lo, hi) holding exactly the paths strictly below dir, for
 * `path >= lo AND path < hi` on a BLOB column (memcmp order).
 */
export function subtreeRange(dir: PathBytes): [PathBytes, PathBytes] {
  const rootLike = dir.length > 0 && dir[dir.length - 1] === SLASH;
  const lo = new Uint8Array(dir.length + (rootLike ? 0 : 1));
  lo.set(dir, 0);
  lo[lo.length - 1] = SLASH;
  const hi = lo.slice();
  hi[hi.length - 1] = SLASH + 1;
  return [lo, hi];
}

/** Key for Maps/Sets of paths (latin1 keeps every byte distinct). */
export function pathKey(p: PathBytes): string {
  return asBuffer(p).toString("latin1");
}

export function asBuffer(p: PathBytes): Buffer {
  return Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}
