// What the mail policy is told about the queue, on a real database; and the
// index that keeps it cheap reaching a database made before it existed.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../src/db/db.ts";
import { enqueue, type NewEvent } from "../../src/db/events.ts";
import { pendingSummary } from "../../src/report/reporter.ts";
import { tempDb, tempDir } from "./helpers.ts";

const tmp = tempDir("integrityd-pending-");
afterAll(() => tmp.cleanup());

test("pending summary: per group, whether anything is pending and the oldest pending event's time; mailed rows do not count", () => {
  const dir = join(tmp.dir, "a");
  mkdirSync(dir);
  const db = tempDb(dir);
  expect(pendingSummary(db)).toEqual({});
  const q = (time: number, ev: Partial<NewEvent>) => enqueue(db, { channel: "file", kind: "changed", subject: "s", text: "t", time, ...ev });
  const mailedFile = q(100, {});
  q(200, {});
  q(150, { channel: "pid", kind: "died", urgent: true });
  q(300, { channel: "pid", kind: "restarted" });
  q(250, { channel: "log", kind: "violation" });
  q(400, { channel: "log", kind: "alert", urgent: true });
  db.query("UPDATE events SET mailed = 1 WHERE id = ?").run(mailedFile);
  // violations are a group of their own (their own hold-off)
  expect(pendingSummary(db)).toEqual({ file: { count: 1, first: 200 }, urgent: { count: 1, first: 150 }, log: { count: 1, first: 300 }, violation: { count: 1, first: 250 } });
  db.query("UPDATE events SET mailed = 2 WHERE urgent = 1 OR channel = 'file'").run();
  expect(pendingSummary(db)).toEqual({ log: { count: 1, first: 300 }, violation: { count: 1, first: 250 } });
  db.close();
});

test("a database made before the urgent index gets it when opened for writing", () => {
  const dir = join(tmp.dir, "b");
  mkdirSync(dir);
  const db = tempDb(dir);
  db.exec("DROP INDEX events_unmailed_urgent");
  db.close();
  const has = (d: ReturnType<typeof openDatabase>) => d.query("SELECT 1 FROM sqlite_master WHERE name = 'events_unmailed_urgent'").get() != null;
  const ro = openDatabase(join(dir, "db.sqlite"), { readonly: true });
  expect(has(ro)).toBe(false);
  ro.close();
  const rw = openDatabase(join(dir, "db.sqlite"));
  expect(has(rw)).toBe(true);
  expect(rw.query("EXPLAIN QUERY PLAN SELECT time FROM events WHERE mailed IS NULL AND urgent = 1 ORDER BY id LIMIT 1").all().map((r) => (r as { detail: string }).detail).join(" ")).toContain("events_unmailed_urgent");
  rw.close();
});
