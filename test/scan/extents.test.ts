// What of a file is read (extents.ts): the whole of a dense file, the data
// extents of a sparse one in order (found through lseek SEEK_DATA/SEEK_HOLE).
import { afterAll, expect, test } from "bun:test";
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planFor } from "../../src/scan/extents.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-extents-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function extentsOf(path: string): { start: number; end: number }[] | "dense" | string {
  const fd = openSync(path, "r");
  try {
    const plan = planFor(fd, fstatSync(fd, { bigint: true }));
    if ("unread" in plan) return plan.unread;
    if (!plan.sparse) return "dense";
    const out: { start: number; end: number }[] = [];
    for (let r = plan.next(0); r; r = plan.next(r.end)) out.push(r);
    return out;
  } finally {
    closeSync(fd);
  }
}

test("a dense file is read whole; a small file with a hole too", () => {
  writeFileSync(join(dir, "dense"), Buffer.alloc(2 << 20, 1));
  expect(extentsOf(join(dir, "dense"))).toBe("dense");
  const fd = openSync(join(dir, "small-holey"), "w");
  ftruncateSync(fd, 512 << 10); // below the sparse rule's 1 MiB
  closeSync(fd);
  expect(extentsOf(join(dir, "small-holey"))).toBe("dense");
});

test("a sparse file: its data extents in order, nothing of its holes; all holes: no extent at all", () => {
  const TiB = 2 ** 40;
  const p = join(dir, "sparse");
  const fd = openSync(p, "w");
  ftruncateSync(fd, TiB);
  closeSync(fd);
  expect(extentsOf(p)).toEqual([]);
  const w = openSync(p, "r+");
  for (const off of [TiB - 65536, 1 << 20, 2 ** 39]) writeSync(w, Buffer.alloc(65536, 9), 0, 65536, off);
  closeSync(w);
  expect(extentsOf(p)).toEqual([
    { start: 1 << 20, end: (1 << 20) + 65536 },
    { start: 2 ** 39, end: 2 ** 39 + 65536 },
    { start: TiB - 65536, end: TiB },
  ]);
});
