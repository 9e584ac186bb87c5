import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, setMeta } from "../../src/db/db.ts";
import { enqueue } from "../../src/db/events.ts";
import { statusFacts, statusReport } from "../../src/cli/status.ts";
import { lockDatabase } from "../../src/db/lock.ts";
import { scanCoverage } from "../../src/scan/status.ts";
import { tempDb, tempDir, testConfig } from "../report/helpers.ts";

import { insertEntries, setScanMeta } from "../support/scan-rows.ts";
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

function fresh(name: string) {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const db = tempDb(dir);
  return { dir, db, path: join(dir, "db.sqlite") };
}

describe("statusReport", () => {
  test("an empty database: every figure present, unknown or none, no throw", () => {
    const { dir, db, path } = fresh("empty");
    db.close();
    const ro = openDatabase(path, { readonly: true });
    const s = statusReport(ro, testConfig(dir), NOW);
    ro.close();
    expect(s).toContain("entries tracked:          0\n");
    expect(s).toContain("checked in this cycle:    unknown");
    expect(s).toContain("oldest check:             unknown");
    expect(s).toContain("speed factor:             unknown");
    expect(s).toContain("last cycle duration:      unknown");
    expect(s).toContain("recent changes:           none");
    expect(s).toMatch(/Logs \(0\)\n  none/);
    expect(s).toMatch(/Processes \(0\)\n  none/);
    expect(s).toContain("undelivered events:       0 (file 0, log 0, process 0)");
    expect(s).toContain("last mail sent:           never");
    expect(s).toContain("last delivery error:      none");
  });

  test("a populated database read while another connection writes; hostile names are made printable", () => {
    const { dir, db, path } = fresh("full");
    insertEntries(db, NOW);
    setScanMeta(db, { speed: 20, lastChange: NOW - 120_000 });
    db.query("INSERT INTO history (time, path, kind) VALUES (?, ?, 'changed')").run(NOW - 5000, Buffer.from([0x2f, 0x65, 0x76, 0x69, 0x6c, 0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0xff]));
    // the size shown is the file's size now (the lag behind the offset), not the stored one
    const authLog = join(dir, "auth.log");
    writeFileSync(authLog, Buffer.alloc(20000, 0x61));
    db.query("INSERT INTO logs (path, offset, size, missing, updated) VALUES (?, 12345, 15000, 0, ?), (?, 7, 7, 1, ?)").run(authLog, NOW - 1000, join(dir, "gone"), NOW - 1000);
    db.query("INSERT INTO pids (pidfile, root, pidct, filepid, pid, name, state, since, checked, detail) VALUES ('/run/sshd.pid', '/run/sshd.pid', 100, 812, 812, 'sshd', 'ok', ?, 0, ''), ('/run/cron\u00ff.pid', '/run', 100, 77, 77, 'cron\u001b[31m', 'died', ?, 0, 'exit\r\nforged')").run(NOW - 86_400_000, NOW - 600_000);
    enqueue(db, { channel: "file", kind: "changed", subject: "/etc/a", text: "x", time: NOW - 300_000 });
    enqueue(db, { channel: "pid", kind: "died", subject: "/run/cron.pid", text: "x", time: NOW - 200_000 });
    db.query("INSERT INTO mails (time, events, ok, error) VALUES (?, 3, 1, ''), (?, 2, 0, 'smtp 127.0.0.1:25: connect ECONNREFUSED'), (?, 2, 0, 'smtp 127.0.0.1:25: connect ECONNREFUSED')").run(NOW - 7_200_000, NOW - 60_000, NOW - 30_000);
    setMeta(db, "cursor.jsonlog", 1);

    const ro = openDatabase(path, { readonly: true });
    // the daemon keeps writing while --status reads
    enqueue(db, { channel: "log", kind: "system", subject: "/var/log/syslog", section: "System Events", text: "x", time: NOW - 100_000 });
    const config = testConfig(dir, { jsonlog: "/var/log/integrityd.jsonl" });
    const s = statusReport(ro, config, NOW);
    const cov = scanCoverage(ro, NOW);
    ro.close();
    db.close();

    expect(s).toContain("entries tracked:          4\n");
    expect(s).toContain("checked in this cycle:    75.0% (cycle 4)");
    expect(s).toContain("oldest check:             1h 0m ago");
    expect(s).toContain("speed factor:             20");
    expect(s).toContain("last cycle duration:      1h 30m");
    expect(s).toMatch(/scan\.last_change: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(2m 0s ago\)/);
    expect(s).toContain("changed  /evil\\x1b[2J\\n\\xff");
    expect(s).toMatch(/\/auth\.log  offset 12345 of 20000  updated/);
    expect(s).toMatch(/\/gone  offset 7  MISSING/);
    expect(s).toMatch(/\/run\/sshd\.pid  PID 812 \(sshd\)  ok since .*\(24h 0m ago\)/);
    expect(s).toContain("/run/cron\\xff.pid  PID 77 (cron\\x1b[31m)  died since");
    expect(s).toContain("exit\\x0d | forged");
    expect(s).toContain("undelivered events:       3 (file 1, log 1, process 1); oldest queued");
    expect(s).toMatch(/last mail sent: +.*\(2h 0m ago\), 3 events/);
    expect(s).toContain("ECONNREFUSED (2 failed attempts since the last success)");
    expect(s).toContain("jsonlog:                  /var/log/integrityd.jsonl; 2 events not yet written");
    // nothing raw reaches the terminal
    expect(s).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(cov).toEqual({ speed: 20, oldestCheckAgeSec: 3600, coverage: 0.75, entries: 4 });
  });

  test("mail off: events counted as not mailed", () => {
    const { dir, db } = fresh("off");
    enqueue(db, { channel: "file", kind: "new", subject: "/a", text: "x" });
    const s = statusReport(db, testConfig(dir, { email: [] }), NOW);
    db.close();
    expect(s).toContain("not mailed (mail is off): 1 (file 1, log 0, process 0)");
    expect(s).toContain("mail:                     off");
  });

  test("missing tables (foreign schema) show unknown instead of failing", () => {
    const { dir, db } = fresh("missing");
    db.exec("DROP TABLE logs; DROP TABLE pids; DROP TABLE history");
    const s = statusReport(db, testConfig(dir), NOW);
    db.close();
    expect(s).toContain("recent changes:           unknown");
    expect(s).toMatch(/Logs\n  unknown/);
    expect(s).toMatch(/Processes\n  unknown/);
  });
});

describe("summary first, and --json", () => {
  test("the summary says whether the daemon runs (by its lock), the last mail, what waits, the cycle time, logs and PID files", () => {
    const { dir, db } = fresh("summary");
    enqueue(db, { channel: "file", kind: "new", subject: "/a", text: "x", time: NOW - 60_000 });
    db.query("INSERT INTO mails (time, events, ok, error) VALUES (?, 4, 1, '')").run(NOW - 3_600_000);
    const config = testConfig(dir, { filerate: 2 });
    let s = statusReport(db, config, NOW);
    expect(s.indexOf("Summary")).toBeLessThan(s.indexOf("Files"));
    expect(s).toContain("daemon:                   not running");
    expect(s).toContain("last mail:                2024-05-01 11:00:00 (1h 0m ago) to admin@example.org");
    expect(s).toContain("events waiting:           1 (oldest queued");
    const lock = lockDatabase(config.database, "test");
    try {
      setMeta(db, "daemon.started", NOW - 7_200_000);
      s = statusReport(db, config, NOW);
      expect(s).toContain(`daemon:                   running, PID ${process.pid}, since`);
    } finally {
      lock.release();
    }
    const f = statusFacts(db, config, NOW);
    expect(f.daemon.running).toBe(false);
    expect(f.events.waiting).toBe(1);
    expect(f.mail.lastSent).toBe(NOW - 3_600_000);
    db.close();
  });

  test("--json field names are stable: a monitoring system reads them", () => {
    const { dir, db } = fresh("json");
    const f = statusFacts(db, testConfig(dir), NOW);
    db.close();
    expect(Object.keys(f)).toEqual(["time", "database", "daemon", "mail", "events", "files", "logs", "journals", "processes", "hints", "chain"]);
    expect(Object.keys(f.chain!)).toEqual(["state", "keyFile", "keyEpoch", "problem", "entries", "headEpoch", "headTime", "lastSeal", "lastMailReport", "lastMailTime"]);
    expect(Object.keys(f.files)).toEqual(["entries", "cycle", "checkedShare", "oldestCheckAgeSeconds", "speed", "lastCycleSeconds", "expectedCycleSeconds"]);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });
});
