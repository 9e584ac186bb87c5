// The traversal queue: in the pending table (random draws, reshuffles in
// chunks), and in memory for --scan-once (depth first; removals that cost what
// they remove).
import { afterEach, describe, expect, test } from "bun:test";
import { openDatabase } from "../../src/db/db.ts";
import { Store } from "../../src/scan/store.ts";
import { makeEnv, pacedScanner, type Env } from "./helpers.ts";

let env: Env;
afterEach(() => env?.cleanup());

describe("traversal queue", () => {
  test("pending entries are drawn in random order and reshuffled in chunks", () => {
    env = makeEnv();
    const s = pacedScanner(env);
    const st = s.scanner.store;
    s.db.transaction(() => { for (let i = 0; i < 700; i++) st.queue(new Uint8Array(Buffer.from(`${env.area}/p${i}`)), 1); })();
    const rnd = () => new Map((s.db.query("SELECT path, rnd FROM pending").all() as { path: Uint8Array; rnd: number }[]).map((r) => [Buffer.from(r.path).toString(), r.rnd]));
    const before = rnd();
    expect(before.size).toBe(700);
    // draws from random probes land all over the queue, not in path order
    const drawn = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const a = new BigInt64Array(1);
      crypto.getRandomValues(a);
      drawn.add(Buffer.from(st.draw(a[0])!).toString());
    }
    expect(drawn.size).toBeGreaterThan(30);
    let cur: Uint8Array | null = new Uint8Array(0);
    let chunks = 0;
    while (cur) {
      cur = st.reshuffleChunk(cur, 256);
      chunks++;
    }
    expect(chunks).toBe(3);
    const after = rnd();
    let moved = 0;
    for (const [k, v] of before) if (after.get(k) !== v) moved++;
    expect(moved).toBeGreaterThan(690);
    s.close();
  });
});

describe("traversal queue in memory", () => {
  const b = (s: string) => Buffer.from(s);
  const str = (p: Uint8Array | null) => (p ? Buffer.from(p).toString() : null);

  test("depth first: the last queued is drawn and taken first, also after removals in the middle", () => {
    env = makeEnv();
    const db = openDatabase(env.config.database);
    const st = new Store(db, { memQueue: true });
    for (const p of ["/a", "/b", "/b/x", "/b/y", "/c", "/d"]) st.queue(b(p), 1);
    st.dropTree(b("/b")); // /b and what is below it leave the queue; the rest keeps its order
    st.unqueue(b("/d"));
    expect(st.pendingCount()).toBe(2);
    expect(str(st.draw(0n))).toBe("/c");
    expect(str(st.take())).toBe("/c");
    st.queue(b("/e"), 1);
    expect(str(st.take())).toBe("/e");
    expect(str(st.take())).toBe("/a");
    expect(st.take()).toBeNull();
    db.close();
  });

  test("a mass deletion from a big queued directory costs linear time", () => {
    env = makeEnv();
    const db = openDatabase(env.config.database);
    const st = new Store(db, { memQueue: true });
    const n = 30_000;
    const dir = `${env.area}/big`;
    const t0 = performance.now();
    db.transaction(() => {
      // a directory too big to be walked with its listing: its children queued one by one
      for (let i = 0; i < n; i++) st.queue(b(`${dir}/f${i}`), 1);
      // the visit of the directory finds n recorded children gone: one dropTree each
      for (let i = 0; i < n; i++) st.dropTree(b(`${dir}/gone${i}`));
      // and the queued children taken or dropped, most of them
      for (let i = 0; i < n; i++) if (i % 10 !== 0) st.dropTree(b(`${dir}/f${i}`));
    })();
    const ms = performance.now() - t0;
    expect(st.pendingCount()).toBe(n / 10);
    expect(str(st.take())).toBe(`${dir}/f${n - 10}`);
    // ~1 s alone (mostly SQLite); a scan of the queue per removal was ~40 s here
    expect(ms).toBeLessThan(15_000);
    db.close();
  });

  test("the draw and the stalest re-check pass over the paths the big-file lane holds", () => {
    env = makeEnv();
    const db = openDatabase(env.config.database);
    const st = new Store(db);
    const path = (s: string) => new Uint8Array(Buffer.from(`${env.area}/${s}`));
    const key = (s: string) => Buffer.from(`${env.area}/${s}`).toString("latin1");
    db.transaction(() => { for (const n of ["a", "b", "c"]) st.queue(path(n), 1); })();
    const held = new Set([key("a"), key("b")]);
    for (let i = 0; i < 20; i++) {
      const a = new BigInt64Array(1);
      crypto.getRandomValues(a);
      expect(Buffer.from(st.draw(a[0], held)!).toString()).toBe(`${env.area}/c`);
    }
    expect(st.draw(0n, new Set([key("a"), key("b"), key("c")]))).toBeNull();
    const attrs = (size: number, type: "file" | "dir" = "file") => ({
      type, mode: 0o644, uid: 0, gid: 0, size: BigInt(size), ino: 1n, nlink: 1, mtime: 0n, ctime: 0n, rdev: 0n, target: null, hash: null,
    });
    st.put(path("old-big"), attrs(1 << 30), null, 100, 1);
    st.put(path("old-held"), attrs(10), null, 200, 1);
    st.put(path("old-small"), attrs(10), null, 300, 1);
    st.put(path("new"), attrs(10), null, 400, 2);
    const show = (p: Uint8Array | null) => (p ? Buffer.from(p).toString().slice(env.area.length + 1) : null);
    // in a cycle: the stalest not visited in it, held ones passed over
    expect(show(st.stalest(2))).toBe("old-big");
    expect(show(st.stalest(2, new Set([key("old-big"), key("old-held")])))).toBe("old-small");
    // of all (while the lane works): big files left to the lane
    expect(show(st.stalest(null, new Set(), 4096))).toBe("old-held");
    expect(show(st.stalest(null, new Set([key("old-held")]), 4096))).toBe("old-small");
    db.close();
  });
});
