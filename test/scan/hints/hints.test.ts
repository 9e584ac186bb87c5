// Change hints on real directories with the real kernel APIs: fanotify where
// the kernel allows it (skipped with the reason where it refuses), the
// inotify fallback with a low watch budget, the overflow flood, and what a
// hint can and cannot make the scanner do.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readCoverage } from "../../../src/scan/hints/status.ts";
import { makeEnv, scanOnce, type Env } from "../helpers.ts";
import { cleanedAfterEach, fanotifyRefused, runWithHints, sh, waitEvents, type Running } from "./support.ts";

const cleanup = cleanedAfterEach();
let env: Env | null = null;
let run: Running | null = null;

const refused = fanotifyRefused();
if (refused) console.log(`skip: fanotify with FAN_MARK_FILESYSTEM refused here (${refused}); the inotify tests still run`);

/** A tree with a baseline, and hints running with a trickle too slow to find anything itself. */
async function start(over: Parameters<typeof makeEnv>[0], build: (area: string) => void): Promise<Running> {
  env = cleanup.tree(makeEnv({ filerate: 0.01, speedup: 1, ...over }));
  build(env.area);
  await scanOnce(env.config);
  run = cleanup.running(await runWithHints(env.config));
  return run;
}

describe.skipIf(refused !== null)("fanotify", () => {
  test("a change, a new file and a deletion are reported at once, with the process that wrote", async () => {
    const r = await start({ hints: "fanotify" }, (a) => {
      writeFileSync(join(a, "conf"), "old\n");
      writeFileSync(join(a, "gone"), "x\n");
    });
    expect(r.hints.backends).toEqual(["fanotify"]);
    expect(readCoverage(r.db).map((c) => c.state)).toEqual(["live"]);
    const child = Bun.spawn(["sh", "-c", `echo new > ${env!.area}/conf; echo evil > ${env!.area}/dropped; rm ${env!.area}/gone; sleep 1`]);
    const rows = await waitEvents(r.db, (rs) => ["changed", "new", "deleted"].every((k) => rs.some((x) => x.kind === k)), 10_000);
    await child.exited;
    const changed = rows.find((x) => x.kind === "changed")!;
    expect(changed.subject).toBe(join(env!.area, "conf"));
    const w = JSON.parse(changed.details).writer;
    expect(w.pid).toBe(child.pid);
    expect(w.uid).toBe(0);
    expect(w.exe).toMatch(/\/(dash|bash|sh)$/);
    expect(changed.text).toContain(`written by ${w.exe} (PID ${child.pid}, UID 0)`);
    expect(rows.find((x) => x.kind === "new")!.subject).toBe(join(env!.area, "dropped"));
    expect(rows.find((x) => x.kind === "deleted")!.subject).toBe(join(env!.area, "gone"));
  });

  test("attack: a hint is only where to look; a symlink to /etc/shadow is recorded as a link, never read, and paths outside the areas are never visited", async () => {
    const visits: string[] = [];
    const r = await start({ hints: "fanotify" }, () => {});
    r.scanner.opts.hooks = { visit: (p, why) => { if (why === "hint") visits.push(Buffer.from(p).toString("latin1")); } };
    const outside = join(env!.dir, "outside");
    sh(`ln -s /etc/shadow ${env!.area}/link; mkdir ${outside}; echo x > ${outside}/f; printf 'x' > "${env!.area}/evil
New: etc-passwd"`);
    const rows = await waitEvents(r.db, (rs) => rs.filter((x) => x.kind === "new").length >= 2, 10_000);
    const link = rows.find((x) => x.subject === join(env!.area, "link"))!;
    expect(link.text).toContain("symlink");
    expect(JSON.parse(link.details).after.hash ?? null).toBeNull();
    const evil = rows.find((x) => x.subject.includes("evil"))!;
    expect(evil.text.split("\n")[0]).toBe(`New: ${env!.area}/evil\\nNew: etc-passwd`);
    expect(visits.length).toBeGreaterThan(0);
    for (const v of visits) expect(v.startsWith(env!.area)).toBe(true);
  });

  test("a directory moved in from outside the areas: changes in it are hinted under its new name", async () => {
    const r = await start({ hints: "fanotify" }, () => {});
    const outside = join(env!.dir, "staging");
    sh(`mkdir ${outside}; echo 1 > ${outside}/a`); // its name is cached outside the area
    await Bun.sleep(600);
    sh(`mv ${outside} ${env!.area}/moved; sleep 0.5; echo 2 > ${env!.area}/moved/b`);
    const rows = await waitEvents(r.db, (rs) => rs.some((x) => x.subject === join(env!.area, "moved", "b")), 10_000);
    expect(rows.some((x) => x.subject === join(env!.area, "moved", "b"))).toBe(true);
  });

  test("the overflow flood: 20,000 creations hiding one edit; the overflow and the edit are both reported", async () => {
    const r = await start({ hints: "fanotify" }, (a) => {
      mkdirSync(join(a, "d"));
      writeFileSync(join(a, "d", "victim"), "original\n");
    });
    r.hints.holdReads(4000); // the kernel's queue (16,384 events) fills while nothing reads it
    await Bun.sleep(300);
    sh(`python3 -c "
import os
d='${env!.area}/flood'
os.mkdir(d)
for i in range(10000): open(f'{d}/f{i}','w').close()
with open('${env!.area}/d/victim','a') as f: f.write('evil\\\\n')
for i in range(10000, 20000): open(f'{d}/f{i}','w').close()
"`);
    const rows = await waitEvents(r.db, (rs) => rs.some((x) => x.kind === "overflow") && rs.some((x) => x.kind === "changed"), 45_000);
    const over = rows.find((x) => x.kind === "overflow")!;
    expect(over.text).toContain("were lost");
    expect(over.subject).toBe(env!.area);
    const edit = rows.find((x) => x.kind === "changed")!;
    expect(edit.subject).toBe(join(env!.area, "d", "victim"));
  }, 60_000);
});

describe("inotify", () => {
  test("the fallback with a low watch budget: degraded coverage is reported and said in the status; watched directories still give hints", async () => {
    const r = await start({ hints: "inotify", hintwatches: 2 }, (a) => {
      for (const d of ["a", "b", "c", "d"]) {
        mkdirSync(join(a, d));
        writeFileSync(join(a, d, "f"), "1\n");
      }
      writeFileSync(join(a, "top"), "1\n");
    });
    expect(r.hints.backends).toEqual(["inotify"]);
    const cov = readCoverage(r.db);
    expect(cov[0].state).toBe("degraded");
    expect(cov[0].reason).toContain("hintwatches = 2");
    const rows = await waitEvents(r.db, (rs) => rs.some((x) => x.kind === "coverage"), 2000);
    const c = rows.find((x) => x.kind === "coverage")!;
    expect(c.text).toContain("degraded");
    expect(c.text).toContain("hintwatches = 2");
    sh(`echo 2 > ${env!.area}/top`);
    const after = await waitEvents(r.db, (rs) => rs.some((x) => x.kind === "changed"), 10_000);
    expect(after.find((x) => x.kind === "changed")!.subject).toBe(join(env!.area, "top"));
  });

  test("a new directory gets a watch, and what was made in it before the watch is found too", async () => {
    const r = await start({ hints: "inotify" }, () => {});
    sh(`mkdir -p ${env!.area}/x/y; echo 1 > ${env!.area}/x/y/early`);
    await waitEvents(r.db, (rs) => rs.some((x) => x.subject.endsWith("/early")), 10_000);
    sh(`echo 2 > ${env!.area}/x/y/late`);
    const rows = await waitEvents(r.db, (rs) => rs.some((x) => x.subject.endsWith("/late")), 10_000);
    expect(rows.some((x) => x.subject === join(env!.area, "x", "y", "early"))).toBe(true);
    expect(rows.some((x) => x.subject === join(env!.area, "x", "y", "late"))).toBe(true);
  });

  test("hints = off: nothing is watched, the status says so", async () => {
    const r = await start({ hints: "off" }, () => {});
    expect(readCoverage(r.db)).toEqual([{ area: env!.area, backend: "none", state: "off", reason: "hints = off" }]);
    sh(`echo 1 > ${env!.area}/new`);
    await Bun.sleep(500);
    expect((r.db.query("SELECT count(*) AS n FROM events WHERE kind = 'new'").get() as { n: number }).n).toBe(0);
  });
});
