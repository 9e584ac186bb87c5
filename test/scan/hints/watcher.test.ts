// The fanotify watcher thread on the real kernel: events outside the areas
// never reach the main thread (its counters, and the watcher's, say so), a
// busy directory elsewhere is silenced by an ignore mark in the kernel, and
// the marks go when a directory is moved near an area (attacks: a silenced
// directory moved into an area, or renamed to be the area).
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HintCounters } from "../../../src/scan/hints/status.ts";
import { IGNORE_CAP } from "../../../src/scan/hints/watcher.ts";
import { makeEnv, scanOnce, type Env } from "../helpers.ts";
import { cleanedAfterEach, fanotifyRefused, runWithHints, sh, waitEvents, type Running } from "./support.ts";

const refused = fanotifyRefused();
if (refused) console.log(`skip: fanotify with FAN_MARK_FILESYSTEM refused here (${refused})`);

const cleanup = cleanedAfterEach();
let env: Env | null = null;
let run: Running | null = null;

async function hinted(): Promise<{ env: Env; run: Running }> {
  env = cleanup.tree(makeEnv({ filerate: 0.01, speedup: 1, hints: "fanotify" }));
  writeFileSync(join(env.area, "conf"), "1\n");
  await scanOnce(env.config);
  run = cleanup.running(await runWithHints(env.config));
  return { env, run };
}

/** The counters once `pred` holds of them (10 s at most: then as they are). */
async function countersWhen(r: Running, pred: (c: HintCounters) => boolean): Promise<HintCounters> {
  const t0 = Date.now();
  for (;;) {
    const c = await r.hints.counters();
    if (pred(c) || Date.now() - t0 > 10_000) return c;
    await Bun.sleep(50);
  }
}

/** `n` new files in `dir`, made by another process. */
const create = (dir: string, n: number) => sh(`python3 -c "
for i in range(${n}): open('${dir}/n%d' % i, 'w').close()"`);

describe.skipIf(refused !== null)("fanotify watcher", () => {
  test("events outside the areas are passed over in the watcher, then dropped by the kernel: nothing reaches the main thread", async () => {
    const { env, run } = await hinted();
    const busy = join(env.dir, "busy");
    mkdirSync(busy);
    create(busy, 1);
    const marked = await countersWhen(run, (c) => c.watchers[0]?.ignored >= 1);
    expect(marked.watchers[0].outside).toBeGreaterThanOrEqual(1);
    expect(marked.watchers[0].ignored).toBeGreaterThanOrEqual(1);
    expect(marked.batches).toBe(0);
    expect(marked.received).toBe(0);
    // 2,000 more names in the marked directory, then one change in the area:
    // the kernel queues in order, so once that is hinted all before it was read
    create(busy, 2000);
    sh(`echo 2 > ${env.area}/conf`);
    const after = await countersWhen(run, (c) => c.received >= 1);
    expect(after.received).toBe(1);
    expect(after.batches).toBe(1);
    expect(after.watchers[0].outside - marked.watchers[0].outside).toBeLessThan(1000); // (other programs' events may add a few)
    const rows = await waitEvents(run.db, (rs) => rs.some((x) => x.kind === "changed"), 10_000);
    expect(rows.filter((x) => x.kind !== "baseline").map((x) => x.subject)).toEqual([join(env.area, "conf")]);
  });

  test("at IGNORE_CAP marks they are all removed, and a busy directory is silenced again at its next event", async () => {
    const { env, run } = await hinted();
    const many = join(env.dir, "many");
    mkdirSync(many);
    sh(`python3 -c "
import os
for i in range(${IGNORE_CAP + 50}):
    os.mkdir('${many}/d%d' % i)
    open('${many}/d%d/f' % i, 'w').close()"`);
    const flushed = await countersWhen(run, (c) => c.watchers[0]?.flushes >= 1);
    expect(flushed.watchers[0].flushes).toBeGreaterThanOrEqual(1);
    create(join(many, "d0"), 1); // marked before the flush, its name known
    const again = await countersWhen(run, (c) => c.watchers[0]?.ignored > flushed.watchers[0].ignored);
    expect(again.watchers[0].ignored).toBeGreaterThan(flushed.watchers[0].ignored);
    create(join(many, "d0"), 2000);
    sh(`echo 2 > ${env.area}/conf`);
    const after = await countersWhen(run, (c) => c.received >= 1);
    expect(after.received).toBe(1);
    expect(after.watchers[0].outside - again.watchers[0].outside).toBeLessThan(1000);
  });

  test("attack: a silenced directory moved into an area: the marks go, changes in it are hinted", async () => {
    const { env, run } = await hinted();
    const staging = join(env.dir, "staging");
    mkdirSync(staging);
    create(staging, 1);
    const before = await countersWhen(run, (c) => c.watchers[0]?.ignored >= 1);
    expect(before.watchers[0].ignored).toBeGreaterThanOrEqual(1);
    sh(`mv ${staging} ${env.area}/moved`);
    const flushed = await countersWhen(run, (c) => c.watchers[0]?.flushes > before.watchers[0].flushes);
    expect(flushed.watchers[0].flushes).toBeGreaterThan(before.watchers[0].flushes);
    sh(`echo evil > ${env.area}/moved/b`);
    const rows = await waitEvents(run.db, (rs) => rs.some((x) => x.subject === join(env.area, "moved", "b")), 10_000);
    expect(rows.some((x) => x.subject === join(env.area, "moved", "b"))).toBe(true);
  });

  test("attack: a silenced directory renamed to be the area itself: the marks go, changes in it are hinted", async () => {
    const { env, run } = await hinted();
    const evil = join(env.dir, "evil");
    mkdirSync(evil);
    create(evil, 1);
    const before = await countersWhen(run, (c) => c.watchers[0]?.ignored >= 1);
    expect(before.watchers[0].ignored).toBeGreaterThanOrEqual(1);
    sh(`mv ${env.area} ${env.dir}/old && mv ${evil} ${env.area}`);
    const flushed = await countersWhen(run, (c) => c.watchers[0]?.flushes > before.watchers[0].flushes);
    expect(flushed.watchers[0].flushes).toBeGreaterThan(before.watchers[0].flushes);
    sh(`echo evil > ${env.area}/planted`);
    const rows = await waitEvents(run.db, (rs) => rs.some((x) => x.subject === join(env.area, "planted")), 10_000);
    expect(rows.some((x) => x.subject === join(env.area, "planted"))).toBe(true);
  });
});
