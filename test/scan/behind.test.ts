// A cycle running behind is reported once, even across a restart.
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, setMeta } from "../../src/db/db.ts";
import { BehindCheck } from "../../src/scan/behind.ts";
import { META } from "../../src/scan/cycle.ts";
import { makeEnv, scanOnce, type Env } from "./helpers.ts";

let env: Env | null = null;
afterEach(() => {
  env?.cleanup();
  env = null;
});

test("reported once per cycle, with the figures; not before the time is up", async () => {
  env = makeEnv({ filerate: 1 });
  for (let i = 0; i < 9; i++) writeFileSync(join(env.area, `f${i}`), `${i}`);
  await scanOnce(env.config); // 10 entries: a cycle takes 10 s at filerate 1
  const db = openDatabase(env.config.database);
  const start = 1_800_000_000_000;
  setMeta(db, META.cycle, 7);
  setMeta(db, META.cycleStart, start);
  const check = new BehindCheck(db);
  expect(check.check(env.config, 1, start + 12_000)).toBe(false);
  expect(check.check(env.config, 1, start + 12_500)).toBe(true);
  expect(check.check(env.config, 1, start + 60_000)).toBe(false);
  expect(new BehindCheck(db).check(env.config, 1, start + 90_000)).toBe(false); // a restart
  const rows = db.query("SELECT kind, subject, text FROM events WHERE kind = 'coverage'").all() as { kind: string; subject: string; text: string }[];
  expect(rows.length).toBe(1);
  expect(rows[0].text).toContain("cycle 7 runs behind");
  expect(rows[0].text).toContain("10 entries at filerate 1");
  setMeta(db, META.cycle, 8);
  expect(check.check(env.config, 1, start + 90_000)).toBe(true);
  db.close();
});
