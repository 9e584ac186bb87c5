// The journal task against real journal files (written by the real
// systemd-journal-remote, read by the real journalctl --follow --directory):
// first start at the end, appended entries reported once and in order
// (same-second bursts too), binary messages, the spoofed sshd line flagged
// whatever the rules say, a replaced journal giving the discontinuity notice,
// a missing journal giving a notice while another source keeps working.
import type { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseJournalValue } from "../../../src/config/journal.ts";
import { createJournalTask, type JournalTask } from "../../../src/logs/journal/task.ts";
import { cleanupAll, events, makeEnv, until, writeRules, type Env } from "../helpers.ts";
import { cursors, entry, type Entry, journalToolsMissing, writeJournal } from "../../support/journal.ts";

const why = journalToolsMissing();
const tasks: JournalTask[] = [];
afterEach(async () => {
  for (const t of tasks.splice(0)) await t.stop();
  await cleanupAll();
});

const T0 = Date.now() * 1000 - 3_600_000_000;
const msgs = (from: number, n: number, over: Entry = {}, us = (i: number) => T0 + i * 1000) =>
  Array.from({ length: n }, (_, k) => entry(`line ${from + k}`, us(from + k), over));

function setup(sources: string[], rules: Record<string, string> = { "ignore.d.server/a": "^never matches$\n" }): { env: Env; dirs: string[] } {
  const env = makeEnv([]);
  writeRules(env.rules, rules);
  const dirs: string[] = [];
  env.config.journals = sources.map((s, i) => {
    const v = s.replace(/DIR(\d)/g, (_, n) => join(env.dir, `j${n}`));
    const spec = parseJournalValue(v, { level: "server", rules: env.rules }, i + 1);
    if (typeof spec === "string") throw new Error(spec);
    return spec;
  });
  for (let n = 0; n < 3; n++) dirs.push(join(env.dir, `j${n}`));
  return { env, dirs };
}

function run(env: Env): JournalTask {
  const t = createJournalTask({ db: env.db, config: env.config }, { backoffMinMs: 50 });
  tasks.push(t);
  return t;
}

/** One directory source whose journal file holds `n` entries, followed until its first row is stored. */
async function followOne(n: number): Promise<{ env: Env; file: string; src: string; task: JournalTask }> {
  const { env, dirs } = setup(["directory:DIR0"]);
  mkdirSync(dirs[0]);
  const file = join(dirs[0], "x.journal");
  writeJournal(file, msgs(0, n));
  const src = env.config.journals[0].source;
  const task = run(env);
  expect(await until(() => row(env.db, src) !== null)).toBe(true);
  return { env, file, src, task };
}

const row = (db: Database, source: string) => db.query("SELECT * FROM journals WHERE source = ?").get(source) as { cursor: string; entries: number; problem: string } | null;
const lineNumbers = (db: Database) => events(db, "system").map((e) => Number(/line (\d+)/.exec(e.text)?.[1]));

test("first start follows from the end; appended entries (same second, same µs) come once, in order; a restart repeats none", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, dirs } = setup(["directory:DIR0"]);
  mkdirSync(dirs[0]);
  const file = join(dirs[0], "x.journal");
  writeJournal(file, msgs(0, 5));
  const src = env.config.journals[0].source;
  let t = run(env);
  expect(await until(() => row(env.db, src) !== null)).toBe(true);
  expect(row(env.db, src)!.cursor).toBe(cursors(dirs[0])[4]); // the end, stored before anything is read
  writeJournal(file, msgs(5, 300, {}, () => T0 + 777)); // a burst: one second, even one microsecond
  expect(await until(() => lineNumbers(env.db).length >= 300, 10_000)).toBe(true);
  await t.stop();
  writeJournal(file, msgs(305, 20));
  t = run(env);
  expect(await until(() => lineNumbers(env.db).length >= 320, 10_000)).toBe(true);
  await Bun.sleep(300);
  expect(lineNumbers(env.db)).toEqual(Array.from({ length: 320 }, (_, i) => i + 5));
  expect(events(env.db, "notice")).toEqual([]); // continuity proven: no discontinuity notice
  const ev = events(env.db, "system")[0];
  expect(ev.subject).toBe(`journal ${src}`);
  expect(ev.text).toMatch(/^\w{3} [ \d]\d \d\d:\d\d:\d\d testhost sshd\[4242\]: line 5 \[origin unverified: journal not written by the local journald\]$/);
  expect(JSON.parse(ev.details).journal).toMatchObject({ source: src, uid: 0, exe: "/usr/sbin/sshd", identifier: "sshd", trusted: false });
  expect(row(env.db, src)!.cursor).toBe(cursors(dirs[0])[324]);
}, 30_000);

test("binary messages and invalid UTF-8 survive into the report text, escaped", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, file } = await followOne(1);
  writeJournal(file, [entry(Buffer.from([0x62, 0x69, 0x6e, 0x00, 0xff, 0xc3, 0x28, 0x0a, 0x7a]), T0)]);
  expect(await until(() => events(env.db, "system").length === 1, 10_000)).toBe(true);
  expect(events(env.db, "system")[0].text).toContain("sshd[4242]: bin#000\\xff\\xc3(#012z [origin");
});

test("a spoofed sshd line (logger by uid 1000) is a security alert although the rules ignore it; the real sshd's is ignored; an imported journal is not judged", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, dirs } = setup(["trusted-directory:DIR0", "directory:DIR1"], { "ignore.d.server/ssh": "^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ sshd\\[[[:digit:]]+\\]: Accepted password for root from 10\\.0\\.0\\.9 port 22 ssh2$\n" });
  for (const d of dirs.slice(0, 2)) {
    mkdirSync(d);
    chmodSync(d, 0o700);
    writeJournal(join(d, "x.journal"), msgs(0, 1));
  }
  run(env);
  expect(await until(() => env.config.journals.every((j) => row(env.db, j.source) !== null))).toBe(true);
  const msg = "Accepted password for root from 10.0.0.9 port 22 ssh2";
  const spoof = entry(msg, T0, { _UID: "1000", _GID: "1000", _EXE: "/usr/bin/logger", _COMM: "logger", _SYSTEMD_UNIT: "session-3.scope" });
  for (const d of dirs.slice(0, 2)) writeJournal(join(d, "x.journal"), [entry(msg, T0), spoof, entry("marker", T0)]);
  expect(await until(() => events(env.db, "system").length === 2, 10_000)).toBe(true); // both markers
  const alerts = events(env.db, "alert");
  expect(alerts.length).toBe(1);
  const a = alerts[0];
  expect(a.subject).toBe(`journal ${env.config.journals[0].source}`);
  expect(a.section).toBe("Security Alerts");
  expect(a.urgent).toBe(1);
  expect(a.text).toContain(`sshd[4242]: ${msg} [origin: _UID=1000 _PID=4242 _COMM=logger _EXE=/usr/bin/logger _SYSTEMD_UNIT=session-3.scope] [integrityd: spoofed: identifier sshd (a root daemon) but _UID=1000`);
  const d = JSON.parse(a.details);
  expect(d).toMatchObject({ spoofed: true, rules: [], journal: { uid: 1000, gid: 1000, exe: "/usr/bin/logger", comm: "logger", unit: "session-3.scope", identifier: "sshd", trusted: true } });
  expect(d.spoof_reason).toContain("_EXE=/usr/bin/logger");
});

test("a trusted-directory that others can write is read as untrusted, with a notice", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, dirs } = setup(["trusted-directory:DIR0"]);
  mkdirSync(dirs[0]);
  chmodSync(dirs[0], 0o777);
  writeJournal(join(dirs[0], "x.journal"), msgs(0, 1));
  run(env);
  expect(await until(() => events(env.db, "notice").length > 0, 10_000)).toBe(true);
  expect(events(env.db, "notice")[0].text).toContain("is not trusted");
  expect(events(env.db, "notice")[0].text).toContain("writable by others");
});

test("a journal replaced while we were stopped: a discontinuity notice saying what may be missing, then the new entries", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, dirs } = setup(["directory:DIR0"]);
  mkdirSync(dirs[0]);
  writeJournal(join(dirs[0], "x.journal"), msgs(0, 3));
  const t = run(env);
  const src = env.config.journals[0].source;
  expect(await until(() => row(env.db, src) !== null)).toBe(true);
  await t.stop();
  rmSync(join(dirs[0], "x.journal")); // vacuumed / rotated away
  writeJournal(join(dirs[0], "y.journal"), msgs(3, 2));
  run(env);
  expect(await until(() => events(env.db, "system").length === 2, 10_000)).toBe(true);
  const notices = events(env.db, "notice");
  expect(notices.length).toBe(1);
  expect(notices[0].text).toContain("journal discontinuity: the journal was replaced or rewritten");
  expect(notices[0].text).toContain(new Date(Math.floor((T0 + 2000) / 1000)).toISOString()); // the last entry read
  expect(notices[0].id).toBeLessThan(events(env.db, "system")[0].id);
  expect(lineNumbers(env.db)).toEqual([3, 4]);
});

test("a missing journal directory: one notice, retried with backoff; another source keeps working", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, dirs } = setup(["directory:DIR0", "directory:DIR1"]);
  mkdirSync(dirs[1]);
  writeJournal(join(dirs[1], "x.journal"), msgs(0, 1));
  run(env);
  expect(await until(() => row(env.db, env.config.journals[1].source) !== null)).toBe(true);
  writeJournal(join(dirs[1], "x.journal"), msgs(1, 2));
  expect(await until(() => events(env.db, "system").length === 2, 10_000)).toBe(true);
  await Bun.sleep(500); // several retries
  const notices = events(env.db, "notice");
  expect(notices.length).toBe(1);
  expect(notices[0].subject).toBe(`journal ${env.config.journals[0].source}`);
  expect(notices[0].text).toContain("No such file or directory");
  expect(notices[0].text).toContain("the rest keeps working");
});

test("a journal directory empty at first start: its first entries, when they come, are all read", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, dirs } = setup(["directory:DIR0"]);
  mkdirSync(dirs[0]);
  const src = env.config.journals[0].source;
  run(env);
  expect(await until(() => row(env.db, src) !== null)).toBe(true);
  expect(row(env.db, src)!.cursor).toBe("");
  writeJournal(join(dirs[0], "x.journal"), msgs(0, 3));
  expect(await until(() => events(env.db, "system").length === 3, 10_000)).toBe(true);
  expect(lineNumbers(env.db)).toEqual([0, 1, 2]);
});

test("journalctl killed while following: one notice, restarted with backoff from the cursor, nothing lost or repeated", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { env, file } = await followOne(1);
  writeJournal(file, msgs(1, 2));
  expect(await until(() => events(env.db, "system").length === 2, 10_000)).toBe(true);
  const children = () => readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "latin1").includes(`--directory=${dirname(file)}\0`) && readFileSync(`/proc/${p}/cmdline`, "latin1").includes("--follow");
    } catch {
      return false;
    }
  });
  const [pid] = children();
  expect(pid).toBeDefined();
  process.kill(Number(pid), "SIGKILL");
  writeJournal(file, msgs(3, 2));
  expect(await until(() => events(env.db, "system").length === 4 && children().length === 1 && children()[0] !== pid, 10_000)).toBe(true);
  expect(lineNumbers(env.db)).toEqual([1, 2, 3, 4]);
  const notices = events(env.db, "notice");
  expect(notices.length).toBe(1);
  expect(notices[0].text).toContain("journalctl exited with status");
});
