// Early re-checks after a ctime move (soon.ts): the schedule on its own with
// fake times, and the trickle taking them ahead of the path's turn.
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathFrom } from "../../src/scan/paths.ts";
import { SOON_AFTER_MS, SoonChecks } from "../../src/scan/soon.ts";
import { makeEnv, pacedScanner, type Env } from "./helpers.ts";

const str = (p: Uint8Array | null) => (p ? Buffer.from(p).toString() : null);

describe("schedule (pure)", () => {
  test("due after 10 s, 1 min and 5 min, then forgotten", () => {
    const s = new SoonChecks();
    s.note(pathFrom("/f"), 1000);
    expect(s.take(1000 + 9_999)).toBeNull();
    expect(str(s.take(1000 + 10_000))).toBe("/f");
    expect(s.take(1000 + 10_000)).toBeNull(); // taken once
    expect(str(s.take(1000 + 60_000))).toBe("/f");
    expect(s.take(1000 + 299_999)).toBeNull();
    expect(str(s.take(1000 + 300_000))).toBe("/f");
    expect(s.size).toBe(0);
    expect(s.take(10_000_000)).toBeNull();
    expect(SOON_AFTER_MS).toEqual([10_000, 60_000, 300_000]);
  });

  test("the most overdue first; a path noted again starts anew; bounded, the longest noted forgotten first", () => {
    const s = new SoonChecks(2);
    s.note(pathFrom("/a"), 0);
    s.note(pathFrom("/b"), 5_000);
    expect(str(s.take(20_000))).toBe("/a");
    expect(str(s.take(20_000))).toBe("/b");
    s.note(pathFrom("/a"), 20_000); // moved again: next at 30 s, not 60 s
    expect(s.take(29_999)).toBeNull();
    expect(str(s.take(30_000))).toBe("/a");
    s.note(pathFrom("/c"), 30_000); // over capacity: /b (noted longest ago) is forgotten
    expect(s.size).toBe(2);
    const taken = [str(s.take(1e9)), str(s.take(1e9))].sort();
    expect(taken).toEqual(["/a", "/c"]);
  });
});

let env: Env;
afterEach(() => env?.cleanup());

describe("in the trickle (fake clock)", () => {
  test("a file whose ctime moved is checked again 10 s later, well ahead of its turn; a quiet file is not", async () => {
    // 61 entries at 1 per second: a cycle is a minute
    env = makeEnv({ filerate: 1, speedup: 1 });
    for (let i = 0; i < 60; i++) writeFileSync(join(env.area, `f${i}`), `${i}`);
    const f = join(env.area, "f7");
    const visits: { why: string; at: number }[] = [];
    const soon = new Set<string>();
    const s = pacedScanner(env, {
      hooks: {
        visit: (p, why) => {
          if (why === "soon") soon.add(str(p)!);
          if (str(p) === f) visits.push({ why, at: s.time.now() });
        },
      },
    });
    await s.scanner.runCycle();
    writeFileSync(f, "swapped");
    visits.length = 0;
    for (let i = 0; i < 200 && !visits.some((v) => v.why === "soon"); i++) await s.scanner.step();
    const changed = s.events.find((e) => e.kind === "changed");
    expect(changed?.text).toStartWith(`Changed: ${f}`);
    const atChange = visits[0].at; // the visit that found the change
    const early = visits.find((v) => v.why === "soon");
    expect(early).toBeDefined();
    expect(early!.at - atChange).toBeGreaterThanOrEqual(10_000);
    expect(early!.at - atChange).toBeLessThan(13_000); // within a step or two of its due time; its turn is a cycle (~60 s) away
    // nothing changed meanwhile: the early check reports nothing; no quiet file was checked early
    expect(s.events.filter((e) => e.kind === "changed")).toHaveLength(1);
    expect([...soon]).toEqual([f]);
    s.close();
  });
});
