// The Prometheus textfile (report/metrics.ts, metricsfile.ts): a known state
// of the database gives known values, read back by a strict text-format
// parser; the file is replaced atomically with mode 0644 whatever the umask,
// and a symlink planted at its temporary name or at its path is never
// followed; the real daemon writes it at start and says integrityd_up 0 at
// its stop.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setMeta } from "../../src/db/db.ts";
import { enqueue } from "../../src/db/events.ts";
import { labelValue } from "../../src/report/metrics.ts";
import { metricsText, writeMetricsFile } from "../../src/report/metricsfile.ts";
import { noteRuleLoad } from "../../src/report/ruleloads.ts";
import { run, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";
import { parsePromText, valueOf } from "../support/promtext.ts";
import { insertEntries, setScanMeta } from "../support/scan-rows.ts";
import { tempDb, tempDir, testConfig } from "./helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const NOW = Date.UTC(2026, 10, 30, 8, 0, 0);

function fresh(name: string) {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  return { dir, db: tempDb(dir) };
}

describe("the metrics text", () => {
  test("a known state gives known values, in the strict text format", () => {
    const { dir, db } = fresh("known");
    insertEntries(db, NOW); // 4 entries, oldest check 1 h ago, 3 of them in cycle 4
    setScanMeta(db, { speed: 2 });
    setMeta(db, "daemon.started", NOW - 7_200_000);
    const authLog = join(dir, "auth.log");
    writeFileSync(authLog, Buffer.alloc(20000, 0x61));
    const odd = join(dir, 'odd"\\\nname.log');
    db.query("INSERT INTO logs (path, offset, size, missing, updated) VALUES (?, 12345, 15000, 0, ?), (?, 7, 7, 1, ?)").run(authLog, NOW - 1000, odd, NOW - 1000);
    db.query("INSERT INTO pids (pidfile, root, pidct, filepid, pid, name, state, since, checked, detail) VALUES ('/run/a.pid', '/run/a.pid', 100, 1, 1, 'a', 'ok', 0, 0, ''), ('/run/b.pid', '/run/b.pid', 100, 2, 2, 'b', 'ok', 0, 0, ''), ('/run/c.pid', '/run/c.pid', 100, 3, 3, 'c', 'died', 0, 0, '')").run();
    enqueue(db, { channel: "file", kind: "changed", subject: "/etc/a", text: "x", time: NOW - 300_000 });
    enqueue(db, { channel: "file", kind: "new", subject: "/etc/b", text: "x", time: NOW - 200_000 });
    enqueue(db, { channel: "pid", kind: "died", subject: "/run/c.pid", text: "x", time: NOW - 100_000 });
    db.query("INSERT INTO mails (time, events, ok, error) VALUES (?, 3, 1, ''), (?, 2, 0, 'refused')").run(NOW - 3_600_000, NOW - 60_000);
    setMeta(db, "cursor.jsonlog", 2);
    noteRuleLoad({ home: "/etc/logcheck", level: "server", rules: 1545, seconds: 0.25 });
    const config = testConfig(dir, { jsonlog: "/var/log/integrityd/events.json", syslog: true, filerate: 2 });

    const text = metricsText({ db, config }, true, NOW);
    db.close();
    const m = parsePromText(text);
    const v = (name: string, labels: Record<string, string> = {}) => valueOf(m, `integrityd_${name}`, labels);
    expect(v("up")).toBe(1);
    expect(v("metrics_timestamp_seconds")).toBe(NOW / 1000);
    expect(v("events_waiting", { channel: "file" })).toBe(2);
    expect(v("events_waiting", { channel: "log" })).toBe(0);
    expect(v("events_waiting", { channel: "pid" })).toBe(1);
    expect(v("events_waiting_oldest_timestamp_seconds")).toBe((NOW - 300_000) / 1000);
    expect(v("output_events_behind", { output: "jsonlog" })).toBe(1);
    expect(v("output_events_behind", { output: "syslog" })).toBe(3);
    expect(v("mail_last_success_timestamp_seconds")).toBe((NOW - 3_600_000) / 1000);
    expect(v("mail_failed_attempts")).toBe(1);
    expect(v("files_entries")).toBe(4);
    expect(v("files_cycle")).toBe(4);
    expect(v("files_cycle_checked_ratio")).toBe(0.75);
    expect(v("files_oldest_check_age_seconds")).toBe(3600);
    expect(v("files_expected_cycle_seconds")).toBe(1); // 4 entries at 2/s × speed 2
    expect(v("files_last_cycle_seconds")).toBe(5400);
    expect(v("files_speed_factor")).toBe(2);
    expect(v("rule_set_rules", { home: "/etc/logcheck", level: "server" })).toBe(1545);
    expect(v("rule_set_load_seconds", { home: "/etc/logcheck", level: "server" })).toBe(0.25);
    expect(v("log_lag_bytes", { path: authLog })).toBe(20000 - 12345);
    expect(v("log_missing", { path: authLog })).toBe(0);
    expect(v("log_missing", { path: odd })).toBe(1); // the hostile label value survives the escaping
    expect(() => v("log_lag_bytes", { path: odd })).toThrow(); // a missing file has no known lag: left out
    expect(v("pidfiles", { state: "ok" })).toBe(2);
    expect(v("pidfiles", { state: "died" })).toBe(1);
    expect(v("database_size_bytes")).toBeGreaterThan(4096);
    // conventions: every family is integrityd_*, typed, helped; no counter without _total
    for (const f of m.values()) {
      expect(f.name).toMatch(/^integrityd_[a-z_]+$/);
      expect(f.type).toBe("gauge");
      expect(f.help?.length).toBeGreaterThan(10);
      expect(f.name.endsWith("_total")).toBe(false);
    }
  });

  test("an empty database: what is not known is left out, not 0", () => {
    const { dir, db } = fresh("empty");
    const text = metricsText({ db, config: testConfig(dir, { email: [] }) }, false, NOW);
    db.close();
    const m = parsePromText(text);
    expect(valueOf(m, "integrityd_up")).toBe(0);
    for (const name of ["mail_last_success_timestamp_seconds", "mail_failed_attempts", "files_cycle", "files_last_cycle_seconds", "start_timestamp_seconds", "events_waiting_oldest_timestamp_seconds"]) {
      expect(m.has(`integrityd_${name}`)).toBe(false);
    }
    expect(valueOf(m, "integrityd_events_waiting", { channel: "file" })).toBe(0);
  });

  test("the strict parser refuses what the collector refuses", () => {
    const bad = [
      "x_total 1", // no newline
      "# TYPE a counter\na 1\n", // counter not *_total
      "a 1\nb 1\na 2\n", // family split
      "a 1 1700000000\n", // timestamp
      'a{l="\\x"} 1\n', // bad escape
      "a 1\na 1\n", // series twice
      "a one\n",
      "# HELP a x\na 1\n# HELP a y\n",
    ];
    for (const t of bad) expect(() => parsePromText(t)).toThrow();
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});

describe("the metrics file", () => {
  test("replaced atomically, 0644 under umask 077; a symlink at the temporary name or the path is not followed", () => {
    const { dir, db } = fresh("file");
    db.close();
    const path = join(dir, "integrityd.prom");
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious\n", { mode: 0o600 });
    // the attack: links planted where the writer will create and replace
    symlinkSync(victim, join(dir, ".integrityd.prom.tmp"));
    symlinkSync(victim, path);
    const old = process.umask(0o077);
    try {
      writeMetricsFile(path, "integrityd_up 1\n");
    } finally {
      process.umask(old);
    }
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(lstatSync(path).isFile()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readFileSync(path, "utf8")).toBe("integrityd_up 1\n");
    expect(existsSync(join(dir, ".integrityd.prom.tmp"))).toBe(false);
    writeMetricsFile(path, "integrityd_up 0\n");
    expect(readFileSync(path, "utf8")).toBe("integrityd_up 0\n");
  });

  test("the daemon writes it at start (up 1) and at its stop (up 0); --check-config shows the key", async () => {
    const { dir, db } = fresh("daemon");
    db.close();
    const prom = join(dir, "node-exporter");
    mkdirSync(prom);
    const path = join(prom, "integrityd.prom");
    const conf = writeConfig(dir, `database = ${join(dir, "db.sqlite")}\nemail = none\nmetrics = ${path}\n`);
    expect(run(["--config", conf, "--check-config"]).stdout).toContain(`metrics = ${path}`);
    const d = new DaemonProc(["--config", conf]);
    try {
      await d.until(() => existsSync(path), 15_000, "the metrics file");
      const m = parsePromText(readFileSync(path, "utf8"));
      expect(valueOf(m, "integrityd_up")).toBe(1);
      expect(valueOf(m, "integrityd_start_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(statSync(path).mode & 0o777).toBe(0o644);
    } finally {
      d.kill("SIGTERM");
    }
    expect(await d.exited).toBe(0);
    expect(valueOf(parsePromText(readFileSync(path, "utf8")), "integrityd_up")).toBe(0);
  }, 30_000);
});
