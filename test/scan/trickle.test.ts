// The scanner driven by the daemon's paced steps (trickle.ts), with a fake
// clock: pacing and speed, stalest-first re-check, torn reads, deletions, reload.
import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { getMeta, openDatabase } from "../../src/db/db.ts";
import { META } from "../../src/scan/cycle.ts";
import { makeEnv, pacedScanner, scanOnce, sha256, type Env } from "./helpers.ts";

let env: Env;
afterEach(() => env?.cleanup());

const str = (p: Uint8Array) => Buffer.from(p).toString();

describe("daemon-mode engine (fake clock)", () => {
  test("first pass paced at speedup, then 1 after a clean cycle; a change speeds up for one more full cycle", async () => {
    env = makeEnv({ filerate: 2, speedup: 4 });
    for (let i = 0; i < 6; i++) writeFileSync(join(env.area, `f${i}`), `${i}`);
    let visits = 0;
    const s = pacedScanner(env, { hooks: { visit: () => visits++ } });
    expect(await s.scanner.runCycle()).toBe(true);
    // the first pass reports nothing per file, only the summary
    expect(s.events.map((e) => e.kind)).toEqual(["baseline"]);
    // at filerate 2 x speedup 4 every entry after the first waits 125 ms
    expect(s.time.slept).toBe((visits - 1) * 125);
    expect(getMeta(s.db, META.speed)).toBe("1");
    expect(getMeta(s.db, META.firstPassComplete)).toBe("1");

    // cycle 2 at speed 1: 500 ms per entry. (The first entry's slot of a cycle
    // was booked at the speed in force when it was booked.)
    let mark = s.time.sleeps.length;
    visits = 0;
    await s.scanner.runCycle();
    expect(s.time.sleeps.slice(mark + 1)).toEqual(Array(visits - 1).fill(500));

    writeFileSync(join(env.area, "f3"), "changed");
    await s.scanner.runCycle(); // change found: speed 4, stays for this cycle's end
    expect(s.events.filter((e) => e.kind === "changed")).toHaveLength(1);
    expect(getMeta(s.db, META.speed)).toBe("4");
    mark = s.time.sleeps.length;
    visits = 0;
    await s.scanner.runCycle(); // one full clean cycle, run sped up
    expect(visits).toBeGreaterThanOrEqual(7);
    expect(s.time.sleeps.slice(mark + 1)).toEqual(Array(visits - 1).fill(125));
    expect(getMeta(s.db, META.speed)).toBe("1");
    expect(Number(getMeta(s.db, META.cycle))).toBe(5);
    expect(Number(getMeta(s.db, META.lastCycleChecked))).toBeGreaterThanOrEqual(7);
    s.close();
  });

  test("after each traversed entry the stalest entry not yet visited this cycle is re-checked", async () => {
    env = makeEnv();
    for (let i = 0; i < 12; i++) writeFileSync(join(env.area, `f${i}`), `${i}`);
    await scanOnce(env.config);
    // give every entry a known, shuffled last-check time
    const db = openDatabase(env.config.database);
    const all = (db.query("SELECT path FROM entries").all() as { path: Uint8Array }[]).map((r) => r.path);
    const order = [...all].sort(() => Math.random() - 0.5);
    const stamp = new Map<string, number>();
    order.forEach((p, i) => {
      db.query("UPDATE entries SET checked = ? WHERE path = ?").run(1000 + i, p);
      stamp.set(str(p), 1000 + i);
    });
    db.close();
    const seen = new Set<string>();
    const picks: { path: string; why: string; oldestLeft: number }[] = [];
    const s = pacedScanner(env, {
      hooks: {
        visit: (p, why) => {
          const k = str(p);
          const left = [...stamp.entries()].filter(([q]) => !seen.has(q)).map(([, t]) => t);
          picks.push({ path: k, why, oldestLeft: Math.min(...left) });
          seen.add(k);
        },
      },
    });
    await s.scanner.runCycle();
    s.close();
    const stalest = picks.filter((p) => p.why === "stalest");
    expect(stalest.length).toBeGreaterThan(0);
    for (const p of stalest) expect(stamp.get(p.path)).toBe(p.oldestLeft);
    // traversal and re-check together visited everything exactly once in the cycle
    expect(new Set(picks.map((p) => p.path)).size).toBe(all.length);
    expect(picks.length).toBe(all.length);
  });

  test("a deleted tree is reported once even when the stalest re-check reaches a child first", async () => {
    env = makeEnv();
    // below a directory that stays, so the area root's listing does not see the deletion first
    const top = join(env.area, "keep", "t");
    mkdirSync(join(top, "u", "v"), { recursive: true });
    for (const p of ["a", "u/b", "u/v/c"]) writeFileSync(join(top, p), p);
    await scanOnce(env.config);
    const db = openDatabase(env.config.database);
    db.query("UPDATE entries SET checked = 0 WHERE path = ?").run(Buffer.from(join(top, "u", "v", "c")));
    db.close();
    rmSync(top, { recursive: true });
    const order: string[] = [];
    const s = pacedScanner(env, { hooks: { visit: (p, why) => order.push(`${why}:${str(p)}`) } });
    await s.scanner.runCycle();
    s.close();
    expect(order).toContain(`stalest:${join(top, "u", "v", "c")}`);
    expect(s.events.map((e) => e.text)).toEqual([`Deleted: ${top} (dir with 5 entries below it)`]);
  });

  test("file replaced (rename) while being hashed: retried, never a torn hash", async () => {
    env = makeEnv({ smallfiles: 4096, byterate: 65536 });
    const f = join(env.area, "big");
    const oldData = "o".repeat(65536);
    const newData = "n".repeat(65536);
    writeFileSync(f, oldData);
    await scanOnce(env.config);
    let swapped = false;
    const s = pacedScanner(env, {
      hooks: {
        chunk: (p, sofar) => {
          if (!swapped && str(p) === f && sofar >= 16384) {
            swapped = true;
            writeFileSync(join(env.dir, "swap"), newData);
            renameSync(join(env.dir, "swap"), f);
          }
        },
      },
    });
    await s.scanner.runCycle();
    expect(swapped).toBe(true);
    const changed = s.events.filter((e) => e.kind === "changed");
    expect(changed).toHaveLength(1);
    expect(changed[0].text).toContain(`  hash: ${sha256(oldData)} => ${sha256(newData)}`);
    expect(s.events.filter((e) => e.kind === "error")).toHaveLength(0);
    const row = s.scanner.store.get(new Uint8Array(Buffer.from(f)))!;
    expect(row.hash).toBe(sha256(newData));
    s.close();
  });

  test("file written in place while being hashed: retried; one that never holds still is reported as unverified, not as a hash change", async () => {
    // speedup 1: chunks stay 4 KiB (a sped-up chunk would swallow the whole file)
    env = makeEnv({ smallfiles: 4096, byterate: 65536, speedup: 1 });
    const f = join(env.area, "busy");
    writeFileSync(f, "a".repeat(32768));
    writeFileSync(join(env.area, "calm"), "b".repeat(32768));
    await scanOnce(env.config);
    let writes = 0;
    const scribble = (always: boolean) => (p: Uint8Array, sofar: number) => {
      if (str(p) !== f || sofar !== 8192 || (!always && writes > 0)) return; // once per read attempt
      writes++;
      const fd = openSync(f, "r+");
      writeSync(fd, String(writes % 10), 0);
      closeSync(fd);
    };
    const once = pacedScanner(env, { hooks: { chunk: scribble(false) } });
    await once.scanner.runCycle();
    expect(writes).toBe(1);
    const ch = once.events.filter((e) => e.kind === "changed");
    expect(ch).toHaveLength(1);
    expect(ch[0].text).toContain(`=> ${sha256("1" + "a".repeat(32767))}`);
    once.close();

    writes = 0;
    const always = pacedScanner(env, { hooks: { chunk: scribble(true) }, tornAttempts: 3 });
    await always.scanner.runCycle();
    expect(writes).toBe(3);
    const errs = always.events.filter((e) => e.kind === "error");
    expect(errs).toHaveLength(1);
    expect(errs[0].text).toBe(`Error: ${f}: changed while being read on every attempt; content not verified this cycle`);
    for (const e of always.events) expect(e.text).not.toContain("hash:");
    // the stored hash is still the last verified one
    expect(always.scanner.store.get(new Uint8Array(Buffer.from(f)))!.hash).toBe(sha256("1" + "a".repeat(32767)));
    always.close();
  });

  test("reload: a new area is scanned, a removed one is forgotten without reports", async () => {
    env = makeEnv();
    const second = join(env.dir, "second");
    mkdirSync(second);
    writeFileSync(join(second, "s"), "s");
    writeFileSync(join(env.area, "a"), "a");
    const s = pacedScanner(env);
    await s.scanner.runCycle();
    s.scanner.setConfig({ ...env.config, areas: [env.area, second] });
    await s.scanner.runCycle();
    expect(s.events[0].text).toStartWith("Baseline: recorded 2 entries (1 files, 1 bytes) in ");
    expect(s.events.slice(1).map((e) => e.text.split("\n")[0]).sort()).toEqual([`New: ${second}`, `New: ${join(second, "s")}`]);
    const before = s.events.length;
    s.scanner.setConfig({ ...env.config, areas: [env.area] });
    await s.scanner.runCycle();
    expect(s.events.length).toBe(before);
    expect(s.scanner.store.get(new Uint8Array(Buffer.from(second)))).toBeNull();
    s.close();
  });
});

describe("big directories", () => {
  test("a directory with more children than one queue slice: all recorded, deletions and additions found", async () => {
    env = makeEnv({ filerate: 1000 });
    for (let i = 0; i < 1234; i++) writeFileSync(join(env.area, `n${i}`), "");
    const s = pacedScanner(env);
    await s.scanner.runCycle();
    expect(s.events[0].text).toStartWith("Baseline: recorded 1235 entries (1234 files, 0 bytes)");
    for (const i of [3, 600, 1200]) rmSync(join(env.area, `n${i}`));
    writeFileSync(join(env.area, "fresh1"), "");
    writeFileSync(join(env.area, "fresh2"), "");
    await s.scanner.runCycle();
    const heads = s.events.slice(1).map((e) => e.text.split("\n")[0]).sort();
    expect(heads).toEqual([
      `Deleted: ${join(env.area, "n1200")}`, `Deleted: ${join(env.area, "n3")}`, `Deleted: ${join(env.area, "n600")}`,
      `New: ${join(env.area, "fresh1")}`, `New: ${join(env.area, "fresh2")}`,
    ]);
    s.close();
  });
});
