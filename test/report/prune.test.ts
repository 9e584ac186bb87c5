// Retention of the report queue and the mail log, on a real database; and the
// real reporter pruning at start.
import { afterAll, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setMeta } from "../../src/db/db.ts";
import { enqueue, EVENT_RETENTION_MS } from "../../src/db/events.ts";
import { MAIL_LOG_RETENTION_MS, pruneChunk } from "../../src/report/prune.ts";
import { createReportTask } from "../../src/report/reporter.ts";
import { cursorKey } from "../../src/report/sinks.ts";
import { tempDb, tempDir, testConfig } from "./helpers.ts";

const tmp = tempDir("integrityd-prune-");
afterAll(() => tmp.cleanup());
let n = 0;
function db(): Database {
  const dir = join(tmp.dir, `p${++n}`);
  mkdirSync(dir);
  return tempDb(dir);
}

const NOW = 1_900_000_000_000;
const DAY = 86_400_000;
const old = NOW - EVENT_RETENTION_MS - DAY;

/** Queue an event at `time`, mailed at `mailed` (null: not mailed); returns its id. */
function ev(d: Database, time: number, mailed: number | null): number {
  const id = enqueue(d, { channel: "file", kind: "changed", subject: `/f${time}`, text: "x", time });
  if (mailed !== null) d.query("UPDATE events SET mailed = ? WHERE id = ?").run(mailed, id);
  return id;
}
const ids = (d: Database) => (d.query("SELECT id FROM events ORDER BY id").all() as { id: number }[]).map((r) => r.id);

describe("retention", () => {
  test("mail on: finished events older than 30 days go; unmailed and recent ones stay; the newest always stays", () => {
    const d = db();
    const a = ev(d, old, old + 1);
    const b = ev(d, old, null); // a month-long outage: kept
    const c = ev(d, NOW - DAY, NOW - DAY); // recent
    const last = ev(d, old, old + 1); // old and mailed, but the newest
    expect(pruneChunk(d, NOW, { mailOn: true, sinks: [] })).toBe(1);
    expect(ids(d)).toEqual([b, c, last]);
    expect(a).toBeLessThan(b);
    // ids keep growing after a prune
    expect(ev(d, NOW, null)).toBeGreaterThan(last);
    d.close();
  });

  test("mail off: old events go once the sinks took them; a sink's cursor holds the rest back", () => {
    const d = db();
    const e = [ev(d, old, null), ev(d, old, null), ev(d, old, null), ev(d, NOW, null)];
    setMeta(d, cursorKey("jsonlog"), e[1]);
    expect(pruneChunk(d, NOW, { mailOn: false, sinks: ["jsonlog"] })).toBe(2);
    expect(ids(d)).toEqual([e[2], e[3]]);
    // a sink that never wrote anything holds everything
    expect(pruneChunk(d, NOW, { mailOn: false, sinks: ["jsonlog", "syslog"] })).toBe(0);
    setMeta(d, cursorKey("syslog"), e[3]);
    setMeta(d, cursorKey("jsonlog"), e[3]);
    expect(pruneChunk(d, NOW, { mailOn: false, sinks: ["jsonlog", "syslog"] })).toBe(1);
    expect(ids(d)).toEqual([e[3]]);
    d.close();
  });

  test("chunked: a full chunk says there may be more", () => {
    const d = db();
    for (let i = 0; i < 25; i++) ev(d, old, old);
    ev(d, NOW, null);
    expect(pruneChunk(d, NOW, { mailOn: true, sinks: [] }, 10)).toBe(10);
    expect(pruneChunk(d, NOW, { mailOn: true, sinks: [] }, 10)).toBe(10);
    expect(pruneChunk(d, NOW, { mailOn: true, sinks: [] }, 10)).toBe(5);
    expect(ids(d).length).toBe(1);
    d.close();
  });

  test("mail log: attempts older than 90 days go, but the last successful one stays", () => {
    const d = db();
    const ancient = NOW - MAIL_LOG_RETENTION_MS - DAY;
    const add = (time: number, ok: number) => Number(d.query("INSERT INTO mails (time, events, ok, error) VALUES (?, 1, ?, '')").run(time, ok).lastInsertRowid);
    add(ancient, 1);
    const lastOk = add(ancient + 1, 1);
    add(ancient + 2, 0);
    const recent = add(NOW - DAY, 0);
    expect(pruneChunk(d, NOW, { mailOn: true, sinks: [] })).toBe(2);
    expect((d.query("SELECT id FROM mails ORDER BY id").all() as { id: number }[]).map((r) => r.id)).toEqual([lastOk, recent]);
    d.close();
  });

  test("the reporter prunes at start (mail off, no sinks: old events go, the newest stays)", async () => {
    const dir = join(tmp.dir, `r${++n}`);
    mkdirSync(dir);
    const d = tempDb(dir);
    const t = Date.now();
    for (let i = 0; i < 5; i++) ev(d, t - EVENT_RETENTION_MS - DAY, null);
    const keep = ev(d, t - DAY, null);
    const task = createReportTask({ db: d, config: testConfig(dir, { email: [] }) }, { host: "testhost" });
    await task.kick();
    await task.stop();
    expect(ids(d)).toEqual([keep]);
    d.close();
  });
});
