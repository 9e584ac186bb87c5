// What the file system says about an entry, as plain values shared by the
// readers (reader.ts, dirs.ts, libc.ts, the worker's wire.ts): the stat fields
// the scanner keeps, and a directory's listing. A leaf of types.
import type { FsProblem } from "./errors.ts";

/** The lstat/fstat fields the scanner keeps (bigints, as node:fs's bigint stats give them). */
export interface StatFields {
  mode: bigint; uid: bigint; gid: bigint; size: bigint; ino: bigint; nlink: bigint; mtimeNs: bigint; ctimeNs: bigint; rdev: bigint;
}

/** A directory's raw names, or why they could not be listed. */
export type Listing = { ok: true; names: Buffer[] } | FsProblem;
