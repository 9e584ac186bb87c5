// The traversal queue in the pending table: random draws, reshuffles in chunks.
import { afterEach, describe, expect, test } from "bun:test";
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
