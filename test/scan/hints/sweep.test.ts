// The metadata-first sweep on a real tree: only what differs from the
// records is visited (new, edited, gone), nothing else.
import { afterEach, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../../src/db/db.ts";
import { sweepArea } from "../../../src/scan/hints/sweep.ts";
import { makeEnv, scanOnce, type Env } from "../helpers.ts";

let env: Env | null = null;
afterEach(() => {
  env?.cleanup();
  env = null;
});

test("visits the edited, the new (a new directory's whole content too) and the gone, and the directories that changed; not the untouched", async () => {
  env = makeEnv();
  const a = env.area;
  mkdirSync(join(a, "d"));
  mkdirSync(join(a, "quiet"));
  for (let i = 0; i < 50; i++) writeFileSync(join(a, "quiet", `q${i}`), `${i}`);
  writeFileSync(join(a, "d", "edited"), "1");
  writeFileSync(join(a, "d", "gone"), "1");
  writeFileSync(join(a, "d", "same-size"), "aaaa");
  await scanOnce(env.config);
  appendFileSync(join(a, "d", "edited"), "2");
  rmSync(join(a, "d", "gone"));
  writeFileSync(join(a, "d", "new"), "x");
  mkdirSync(join(a, "d", "newdir", "deeper"), { recursive: true });
  writeFileSync(join(a, "d", "newdir", "deeper", "inside"), "x");
  writeFileSync(join(a, "d", "same-size"), "bbbb"); // same size, mtime set back: ctime still moves
  utimesSync(join(a, "d", "same-size"), new Date(0), new Date(0));
  const db = openDatabase(env.config.database);
  const seen: string[] = [];
  const n = await sweepArea({ db, stopped: false, excluded: () => false, recheck: async (p) => { seen.push(Buffer.from(p).toString()); } }, Buffer.from(a));
  db.close();
  const newTree = [join(a, "d", "newdir"), join(a, "d", "newdir", "deeper"), join(a, "d", "newdir", "deeper", "inside")];
  expect(seen.sort()).toEqual([join(a, "d"), join(a, "d", "edited"), join(a, "d", "gone"), join(a, "d", "new"), join(a, "d", "same-size"), ...newTree].sort());
  expect(n).toBe(8);
});
