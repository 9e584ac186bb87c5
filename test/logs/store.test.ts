// The logs table: a row saved with its events in one transaction (all or
// nothing), the event shapes, forgetting rows.
import { afterEach, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import {
  forgetLogs, lineEvents, loadLog, type LogEvent, newRow, NOTICE_SECTION, noticeEvent, saveLog,
} from "../../src/logs/store.ts";

let dir = "";
let db: Database | null = null;
afterEach(() => {
  db?.close();
  db = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function open(): Database {
  dir = mkdtempSync(join(tmpdir(), "integrityd-logstore-"));
  const p = join(dir, "db.sqlite");
  initDatabase(p);
  db = openDatabase(p);
  return db;
}

const queued = (d: Database) =>
  d.query("SELECT channel, kind, section, subject, text, urgent, details FROM events ORDER BY id").all() as
    { channel: string; kind: string; section: string; subject: string; text: string; urgent: number; details: string }[];

describe("saveLog / loadLog", () => {
  test("a row round-trips, updated is the time passed in", () => {
    const d = open();
    expect(loadLog(d, "/var/log/a")).toBe(null);
    const row = { ...newRow("/var/log/a"), dev: 3, ino: 44, offset: 120, size: 130, fingerprint: new Uint8Array([1, 2, 3]), missing: 0 };
    saveLog(d, row, [], 12345);
    const got = loadLog(d, "/var/log/a")!;
    expect({ ...got, fingerprint: [...got.fingerprint!] }).toEqual({
      path: "/var/log/a", dev: 3, ino: 44, offset: 120, size: 130, fingerprint: [1, 2, 3], tailprint: null, uid: -1, skipping: 0, missing: 0, updated: 12345,
    });
    row.offset = 200;
    row.skipping = 1;
    saveLog(d, row, [], 12346);
    expect(loadLog(d, "/var/log/a")!.offset).toBe(200);
    expect(loadLog(d, "/var/log/a")!.skipping).toBe(1);
  });

  test("the tailprint and the owner round-trip", () => {
    const d = open();
    saveLog(d, { ...newRow("/l"), ino: 1, offset: 3, tailprint: new Uint8Array([97, 98, 10]), uid: 1234 }, [], 1);
    const got = loadLog(d, "/l")!;
    expect([...got.tailprint!]).toEqual([97, 98, 10]);
    expect(got.uid).toBe(1234);
  });

  test("a schema version 1 database is upgraded by initDatabase: its logs rows keep their state, tailprint null and uid -1 (not known)", () => {
    const d = open();
    const p = join(dir, "db.sqlite");
    saveLog(d, { ...newRow("/old"), ino: 5, offset: 77, fingerprint: new Uint8Array([1]) }, [], 1);
    // back to version 1: the logs table as it was then
    d.exec(`CREATE TABLE logs1 AS SELECT path, dev, ino, offset, size, fingerprint, skipping, missing, updated FROM logs;
            DROP TABLE logs;
            CREATE TABLE logs (path TEXT PRIMARY KEY, dev INTEGER NOT NULL DEFAULT 0, ino INTEGER NOT NULL DEFAULT 0,
              offset INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0, fingerprint BLOB,
              skipping INTEGER NOT NULL DEFAULT 0, missing INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
            INSERT INTO logs SELECT * FROM logs1; DROP TABLE logs1;
            PRAGMA user_version = 1;`);
    d.close();
    db = null;
    expect(() => openDatabase(p)).toThrow(/schema version 1/);
    expect(initDatabase(p)).toEqual({ created: false, from: 1, to: 2 });
    db = openDatabase(p);
    const got = loadLog(db, "/old")!;
    expect([got.ino, got.offset, [...got.fingerprint!], got.tailprint, got.uid]).toEqual([5, 77, [1], null, -1]);
  });

  test("the events and the row are stored together, events in order on channel log", () => {
    const d = open();
    const row = { ...newRow("/l"), ino: 1, offset: 10 };
    const evs = [...lineEvents("/l", "x", 0, false, [{ kind: "system", section: "System Events" }]), noticeEvent("/l", "note")];
    saveLog(d, row, evs, 1);
    expect(queued(d).map((e) => [e.channel, e.kind, e.text])).toEqual([["log", "system", "x"], ["log", "notice", "note"]]);
    expect(loadLog(d, "/l")!.offset).toBe(10);
  });

  test("all or nothing: when queuing an event fails, neither the events nor the new offset are stored", () => {
    const d = open();
    const row = { ...newRow("/l"), ino: 1, offset: 10 };
    saveLog(d, row, [], 1);
    const good = lineEvents("/l", "a", 10, false, [{ kind: "system", section: "S" }])[0];
    const bad: LogEvent = { ...good, details: { n: 1n } }; // JSON.stringify throws on a BigInt
    row.offset = 20;
    expect(() => saveLog(d, row, [good, bad], 2)).toThrow();
    expect(queued(d)).toEqual([]);
    expect(loadLog(d, "/l")!.offset).toBe(10);
    expect(loadLog(d, "/l")!.updated).toBe(1);
  });

  test("forgetLogs deletes the rows not kept", () => {
    const d = open();
    for (const p of ["/a", "/b", "/c"]) saveLog(d, newRow(p), [], 1);
    forgetLogs(d, (p) => p !== "/b");
    expect(loadLog(d, "/a")).not.toBe(null);
    expect(loadLog(d, "/b")).toBe(null);
    expect(loadLog(d, "/c")).not.toBe(null);
  });
});

describe("event shapes", () => {
  test("a line placed in several sections: one event each; alerts urgent; cut flagged in details", () => {
    const evs = lineEvents("/var/log/x\n", "text", 42, true, [
      { kind: "alert", section: "Security Alerts for sshd" },
      { kind: "violation", section: "Security Events for sshd" },
    ]);
    expect(evs).toEqual([
      { kind: "alert", section: "Security Alerts for sshd", subject: "/var/log/x\\n", text: "text", urgent: true,
        details: { log: "/var/log/x\n", offset: 42, section: "Security Alerts for sshd", cut: true } },
      { kind: "violation", section: "Security Events for sshd", subject: "/var/log/x\\n", text: "text", urgent: false,
        details: { log: "/var/log/x\n", offset: 42, section: "Security Events for sshd", cut: true } },
    ]);
    expect(lineEvents("/l", "t", 0, false, [{ kind: "system", section: "S" }])[0].details).toEqual({ log: "/l", offset: 0, section: "S" });
  });

  test("a notice: section NOTICE_SECTION, subject and text escaped, the raw subject in details", () => {
    expect(noticeEvent("/l\t", "gone\x01", { offset: 3 })).toEqual({
      kind: "notice", section: NOTICE_SECTION, subject: "/l\\t", text: "gone\\x01", urgent: false, details: { log: "/l\t", offset: 3 },
    });
  });
});
