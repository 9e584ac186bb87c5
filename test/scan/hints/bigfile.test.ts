// Big files do not stop the world, with hints too: a real 200 MiB file
// (dense: every byte is read) hinted into the lane at a low byterate, while
// hinted small-file changes keep being found. Order is asserted, not time:
// the small changes are reported while the big file has still not been read.
// (The trickle alone beside the lane: test/scan/lane.test.ts.)
import { expect, test } from "bun:test";
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeEnv, scanOnce, type Env } from "../helpers.ts";
import { cleanedAfterEach, runWithHints, sh, waitEvents, type Running } from "./support.ts";

const cleanup = cleanedAfterEach();
let env: Env | null = null;
let run: Running | null = null;

function dense(path: string, mib: number): void {
  const chunk = Buffer.alloc(1 << 20, 0xa5);
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

test("a hinted 200 MiB file goes to the lane (read at 64 KiB/s); hinted small-file changes are still found at once while it is read", async () => {
  env = cleanup.tree(makeEnv({ filerate: 0.01, speedup: 1, byterate: 65536, smallfiles: 131072, hints: "auto" }));
  for (let i = 0; i < 20; i++) writeFileSync(join(env.area, `s${i}`), `${i}`);
  await scanOnce(env.config);
  dense(join(env.dir, "big"), 200);
  run = cleanup.running(await runWithHints(env.config));
  sh(`mv ${env.dir}/big ${env.area}/big`); // about 53 min of reading at 64 KiB/s
  await waitEvents(run.db, () => run!.scanner.lane!.busy, 10_000);
  expect(run.scanner.lane!.busy).toBe(true);
  sh(`echo changed > ${env.area}/s3; echo changed > ${env.area}/s17`);
  const rows = await waitEvents(run.db, (rs) => rs.filter((x) => x.kind === "changed").length >= 2, 20_000);
  expect(rows.filter((x) => x.kind === "changed").map((x) => x.subject).sort()).toEqual([join(env.area, "s17"), join(env.area, "s3")]);
  // the big file: still being read, not recorded yet
  expect(run.scanner.lane!.busy).toBe(true);
  const big = join(env.area, "big");
  expect(rows.some((x) => x.subject === big)).toBe(false);
  expect(run.db.query("SELECT 1 FROM entries WHERE path = ?").get(Buffer.from(big))).toBeNull();
}, 40_000);
