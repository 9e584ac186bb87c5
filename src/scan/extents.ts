// What of a regular file is read to hash it: the whole of it (plain digest),
// or, for a sparse file (sparse.ts says which), its data extents one by one as
// the kernel reports them through lseek SEEK_DATA/SEEK_HOLE (libc.ts), so its
// holes are never read; or nothing, with the reason, where the file system
// cannot locate holes. Used by both hashers in reader.ts (paced and blocking),
// so they always agree. The extents are found as the read goes (never listed
// whole: a 1 TiB file can have millions).
import type { BigIntStats } from "node:fs";
import { nativeAt } from "./libc.ts";
import { isSparse, unreadSparseMessage } from "./sparse.ts";

/**
 * The ranges of a file to hash: the whole file (plain digest), or its data
 * extents one by one (sparse digest), or a reason it cannot be read. `next`
 * gives the extent at or after `pos` ([start, end)), or null at the end.
 */
export type Plan =
  | { sparse: false }
  | { sparse: true; next(pos: number): { start: number; end: number } | null }
  | { unread: string };

export function planFor(fd: number, before: BigIntStats): Plan {
  const size = Number(before.size);
  const blocks = Number(before.blocks);
  if (!isSparse(size, blocks)) return { sparse: false };
  const native = nativeAt();
  if (!native) return { unread: unreadSparseMessage(size, blocks) };
  try {
    native.seek(fd, 0, "data"); // EINVAL: the file system cannot locate holes
  } catch {
    return { unread: unreadSparseMessage(size, blocks) };
  }
  return {
    sparse: true,
    next(pos) {
      if (pos >= size) return null;
      const start = native.seek(fd, pos, "data");
      if (start === null || start >= size) return null;
      const end = native.seek(fd, start, "hole") ?? size;
      return { start, end: Math.min(end, size) };
    },
  };
}
