// The in-memory traversal queue: order, removal of paths and subtrees (as
// isWithin), and work in proportion to what is removed.
import { describe, expect, test } from "bun:test";
import { MemQueue } from "../../src/scan/memqueue.ts";
import { isWithin, pathKey } from "../../src/scan/paths.ts";

const b = (s: string) => Buffer.from(s);
const str = (p: Uint8Array | null) => (p ? Buffer.from(p).toString() : null);

function drain(q: MemQueue): string[] {
  const out: string[] = [];
  for (let p = q.take(); p; p = q.take()) out.push(str(p)!);
  return out;
}

describe("MemQueue", () => {
  test("last queued, first taken; a path queued again keeps its place", () => {
    const q = new MemQueue();
    for (const p of ["/a", "/b", "/c", "/a"]) q.push(b(p));
    expect(q.size).toBe(3);
    expect(str(q.peek())).toBe("/c");
    expect(drain(q)).toEqual(["/c", "/b", "/a"]);
    expect(q.take()).toBeNull();
    expect(q.peek()).toBeNull();
  });
  test("removal keeps the order of the rest (no swap with the last)", () => {
    const q = new MemQueue();
    for (const p of ["/1", "/2", "/3", "/4", "/5"]) q.push(b(p));
    q.remove(pathKey(b("/2")));
    q.remove(pathKey(b("/5")));
    q.remove(pathKey(b("/nope")));
    expect(str(q.peek())).toBe("/4");
    expect(q.size).toBe(3);
    expect(q.consistent()).toBe(true);
    expect(drain(q)).toEqual(["/4", "/3", "/1"]);
  });
  test("removeWithin removes exactly what isWithin says, the directory itself included", () => {
    const paths = ["/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/a//x", "/a/b/", "/b", "/b/a", "//x", "/a/bc", "x"];
    for (const dir of ["/", "/a", "/a/", "/a/b", "/ab", "/b", "/zz", "//x"]) {
      const q = new MemQueue();
      for (const p of paths) q.push(b(p));
      q.removeWithin(b(dir));
      const left = drain(q).reverse();
      expect({ dir, left }).toEqual({ dir, left: paths.filter((p) => !isWithin(b(p), b(dir))) });
    }
  });
  test("stays consistent under a random mix, and matches a plain list", () => {
    const q = new MemQueue();
    const model: string[] = [];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const name = () => `/r/${rnd(5)}/${rnd(5)}/${rnd(30)}`.slice(0, 3 + 2 * (1 + rnd(3)) + 2);
    for (let i = 0; i < 20_000; i++) {
      const op = rnd(10);
      if (op < 5) {
        const p = name();
        q.push(b(p));
        if (!model.includes(p)) model.push(p);
      } else if (op < 7) {
        expect(str(q.take())).toBe(model.pop() ?? null);
      } else if (op < 9) {
        const p = name();
        q.remove(pathKey(b(p)));
        const i = model.indexOf(p);
        if (i >= 0) model.splice(i, 1);
      } else {
        const d = name();
        q.removeWithin(b(d));
        for (let j = model.length - 1; j >= 0; j--) if (isWithin(b(model[j]), b(d))) model.splice(j, 1);
      }
      expect(q.size).toBe(model.length);
    }
    expect(q.consistent()).toBe(true);
    expect(drain(q)).toEqual(model.reverse());
  });
  test("removing most of a large queue is linear work (holes, compaction, trie)", () => {
    const q = new MemQueue();
    const n = 200_000;
    const dir = "/area/big";
    for (let i = 0; i < n; i++) q.push(b(`${dir}/f${i}`));
    const pushed = q.work;
    const gone = Array.from({ length: n }, (_, i) => b(`${dir}/gone${i}`));
    const keys = Array.from({ length: n }, (_, i) => pathKey(b(`${dir}/f${i}`)));
    const t0 = performance.now();
    // what --scan-once did after a mass deletion: a subtree removal per gone file
    // (most of them not queued), plus the queued ones removed one by one
    for (let i = 0; i < n; i++) {
      q.removeWithin(gone[i]);
      if (i % 4 !== 0) q.remove(keys[i]);
    }
    const ms = performance.now() - t0;
    expect(q.size).toBe(n / 4);
    expect(q.consistent()).toBe(true);
    // per operation a handful of trie nodes (path depth 3) and slots; a
    // scan of the queue per removal would be ~n² = 4e10
    expect(q.work - pushed).toBeLessThan(20 * n);
    // ~0.5 s alone; generous for a loaded machine (a quadratic scan takes hours)
    expect(ms).toBeLessThan(10_000);
    q.removeWithin(b(dir));
    expect(q.size).toBe(0);
    expect(q.take()).toBeNull();
  });
});
