// One file's content digest, as both hashers of reader.ts build it (the
// daemon's paced one and the workers' blocking one): the ranges extents.ts
// plans (the whole file, or a sparse file's data extents), the sparse framing
// (sparse.ts), and the checks that the file is the one lstat saw and kept
// still while it was read (torn reads). The hashers only move bytes.
import type { BigIntStats } from "node:fs";
import { fstatSync } from "node:fs";
import type { Plan } from "./extents.ts";
import { extentHeader, sizeTrailer, sparsePrefix } from "./sparse.ts";

/** What lstat saw of a regular file, to check the opened file against. */
export interface Seen {
  ino: bigint;
  dev: bigint;
  size: bigint;
  mtime: bigint;
  ctime: bigint;
}

/** The opened file (fstat) is not the one lstat saw, or has changed since: why; else null. */
export function tornBefore(before: BigIntStats, seen: Seen): string | null {
  if (!before.isFile() || before.ino !== seen.ino || before.dev !== seen.dev) return "replaced before it was opened";
  if (before.size !== seen.size || before.mtimeNs !== seen.mtime || before.ctimeNs !== seen.ctime) return "changed before it was opened";
  return null;
}

/** After reading `read` bytes: fstat must agree with the one before and the whole file must have been read. */
export function tornAfter(before: BigIntStats, after: BigIntStats, read: number): string | null {
  const same = after.ino === before.ino && after.dev === before.dev && after.size === before.size && after.mtimeNs === before.mtimeNs && after.ctimeNs === before.ctimeNs;
  return same && read === Number(before.size) ? null : "changed while being read";
}

/** A range of a file to read: [start, end). */
type Range = { start: number; end: number };

/**
 * One file's digest: first() the first range, add() the bytes read, after()
 * the next range, finish() the digest checked against an fstat after the read.
 */
export class Digester {
  private readonly hasher: Bun.CryptoHasher;
  readonly total: number;
  read = 0;

  constructor(private readonly plan: Exclude<Plan, { unread: string }>, private readonly before: BigIntStats, private readonly algo: string) {
    this.hasher = new Bun.CryptoHasher(algo as "sha256");
    this.total = Number(before.size);
  }

  /** The first range to read ([0, total) for a plain digest, else the first data extent), or null. */
  first(): Range | null {
    return this.plan.sparse ? this.framed(this.plan.next(0)) : { start: 0, end: this.total };
  }

  /** Bytes read up to `pos`: the reason when the file grew past its recorded size, else null. */
  add(bytes: Uint8Array, pos: number): string | null {
    this.hasher.update(bytes);
    this.read += bytes.length;
    return pos > this.total ? "grew while being read" : null;
  }

  /** After a range read up to `pos`: the next range (null: done), or the reason the file changed. */
  after(range: Range, pos: number): { next: Range | null } | { torn: string } {
    if (!this.plan.sparse) return { next: null };
    if (pos < range.end) return { torn: "changed while being read" };
    return { next: this.framed(this.plan.next(range.end)) };
  }

  /** The digest, checked against an fstat after the read; or the reason it cannot stand. */
  finish(fd: number): { hash: string; after: BigIntStats } | { torn: string } {
    if (this.plan.sparse) this.hasher.update(sizeTrailer(this.total));
    const after = fstatSync(fd, { bigint: true });
    const late = tornAfter(this.before, after, this.plan.sparse ? this.total : this.read);
    if (late) return { torn: late };
    const prefix = this.plan.sparse ? sparsePrefix(this.algo) : `${this.algo}:`;
    return { hash: `${prefix}${this.hasher.digest("hex")}`, after };
  }

  private framed(r: Range | null): Range | null {
    if (r) this.hasher.update(extentHeader(r.start, r.end - r.start));
    return r;
  }
}
