// End to end: the compiled daemon with every task, a real SMTP server on
// 127.0.0.1, real files, a real log and a real process. Each event must arrive
// by mail exactly once — also across an SMTP outage and a kill -9 of the daemon.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";
import { TestSmtp } from "../support/smtp.ts";
import { validate } from "../support/jsonschema.ts";

let dir: string;
let cleanup: () => void;
const smtp = new TestSmtp();
let sleeper: ReturnType<typeof Bun.spawn> | null = null;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir("integrityd-e2e-"));
  await smtp.start();
});
afterAll(async () => {
  sleeper?.kill("SIGKILL");
  await smtp.stop();
  cleanup();
});

const mailText = () => smtp.mails.map((m) => m.body).join("\n");
const count = (hay: string, needle: string) => hay.split(needle).length - 1;

/** The PID watcher's recorded state of a PID file (read-only, beside the running daemon). */
function pidState(dbPath: string, pidfile: string): string | undefined {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.query("SELECT state FROM pids WHERE pidfile = ?").get(pidfile) as { state: string } | null)?.state;
  } catch {
    return undefined; // not created yet
  } finally {
    db.close();
  }
}

async function until(pred: () => boolean, what: string, d: DaemonProc, ms = 20000) {
  try {
    await d.until(pred, ms, what);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nmails received:\n${smtp.mails.map((m) => `${m.headers}\n\n${m.body}`).join("\n----\n")}`);
  }
}

test("file change, log alert and process death arrive by mail exactly once, across an SMTP outage and kill -9", async () => {
  const watched = join(dir, "watched");
  mkdirSync(watched);
  writeFileSync(join(watched, "passwd"), "root:x:0:0\n");
  writeFileSync(join(watched, "hosts"), "127.0.0.1 localhost\n");
  const rules = join(dir, "rules");
  for (const d of ["cracking.d", "violations.d", "ignore.d.server", "ignore.d.paranoid"]) mkdirSync(join(rules, d), { recursive: true });
  writeFileSync(join(rules, "cracking.d", "local"), "EVIL-ATTACK\n");
  writeFileSync(join(rules, "violations.d", "local"), "authentication failure\n");
  writeFileSync(join(rules, "ignore.d.server", "local"), "^\\w{3} [ :0-9]{11} [._[:alnum:]-]+ cron\\[[0-9]+\\]: routine job$\n");
  const logf = join(dir, "app.log");
  writeFileSync(logf, "Nov 25 10:00:00 host old: history is not reported\n");
  sleeper = Bun.spawn(["sleep", "1000"]);
  const pidf = join(dir, "svc.pid");
  writeFileSync(pidf, `${sleeper.pid}\n`);
  const db = join(dir, "state", "db.sqlite");
  const conf = writeConfig(dir, [
    `email = admin@example.org`,
    `mailfrom = ids@example.org`,
    `smtp = 127.0.0.1:${smtp.port}`,
    `database = ${db}`,
    `area = ${watched}`,
    `filerate = 200`,
    `logrules = server:${rules}`,
    `log = ${logf}`,
    `pidfile = ${pidf}`,
    `pidchecktime = 1`,
    `logchecktime = 1`,
    `reporttime = 1`,
    `reportholdoff = 1`,
    `jsonlog = ${join(dir, "events.json")}`,
  ].join("\n") + "\n");
  expect(run(["--init-db", "--config", conf]).code).toBe(0);

  let d = new DaemonProc(["--config", conf, "--stdout"]);
  await d.waitFor(/integrityd started/);
  await until(() => /Baseline: recorded/.test(d.stdout), "baseline", d);
  expect(d.stdout).not.toContain("New: "); // the first pass records without a line per file
  // the PID watcher's first check records the running process (a PID file seen
  // for the first time is only recorded): the process must die after that
  await until(() => pidState(db, pidf) === "ok", "the PID baseline", d);

  // a file change, a log alert, a routine line, a violation, a process death
  writeFileSync(join(watched, "passwd"), "root:x:0:0\nevil:x:0:0\n");
  appendFileSync(logf, "Nov 25 10:00:01 host cron[12]: routine job\n");
  appendFileSync(logf, "Nov 25 10:00:02 host sshd[99]: EVIL-ATTACK from 192.0.2.7\n");
  appendFileSync(logf, "Nov 25 10:00:03 host su[5]: authentication failure for root\n");
  sleeper.kill("SIGKILL");
  await until(() => mailText().includes("EVIL-ATTACK") && mailText().includes("died") && mailText().includes(`Changed: ${join(watched, "passwd")}`)
    && mailText().includes("authentication failure"), "first mails", d, 75000); // a death seen just after the alert's mail waits for the one-a-minute urgent cap
  expect(smtp.mails.some((m) => m.subject.startsWith("SECURITY ALERT"))).toBe(true);
  expect(smtp.mails.every((m) => m.to.includes("admin@example.org") && m.from === "ids@example.org")).toBe(true);
  expect(mailText()).not.toContain("routine job");
  expect(mailText()).not.toContain("history is not reported");

  // SMTP outage: events wait in the database, then all arrive once
  await smtp.stop();
  appendFileSync(logf, "Nov 25 10:00:04 host kernel: during-outage-line\n");
  writeFileSync(join(watched, "newfile"), "x\n");
  await until(() => d.stdout.includes("during-outage-line") && d.stdout.includes("New: "), "events queued during the outage", d);
  await Bun.sleep(1500); // let the reporter fail at least once
  await smtp.start(smtp.port);
  d.kill("SIGHUP"); // a reload retries at once instead of waiting for the backoff
  await until(() => mailText().includes("during-outage-line") && mailText().includes(`New: ${join(watched, "newfile")}`), "mail after the outage", d, 30000);

  // kill -9, a line written while it is down, restart: it arrives once
  d.kill("SIGKILL");
  await d.exited;
  appendFileSync(logf, "Nov 25 10:00:05 host kernel: while-down-line\n");
  d = new DaemonProc(["--config", conf, "--stdout"]);
  await until(() => mailText().includes("while-down-line"), "mail after restart", d, 30000);
  await Bun.sleep(2500); // time for any duplicate to show up
  d.kill("SIGTERM");
  expect(await d.exited).toBe(0);

  const all = mailText();
  for (const s of ["EVIL-ATTACK", "authentication failure", "during-outage-line", "while-down-line", `Changed: ${join(watched, "passwd")}`, `New: ${join(watched, "newfile")}`]) {
    expect(`${s}: ${count(all, s)}`).toBe(`${s}: 1`);
  }
  // the JSON sink saw the same events, one object per line
  const json = readFileSync(join(dir, "events.json"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(json.some((e) => e.integrityd.channel === "pid" && e.integrityd.kind === "died")).toBe(true);
  expect(json.filter((e) => String(e.message).includes("while-down-line")).length).toBe(1);
  // every line the daemon wrote is of the event schema it prints (--print-schema)
  const schema = JSON.parse(run(["--print-schema"]).stdout);
  for (const e of json) expect(validate(schema, e)).toEqual([]);
  const kinds = [...new Set(json.map((e) => `${e.integrityd.channel}/${e.integrityd.kind}`))];
  for (const k of ["file/baseline", "file/changed", "file/new", "log/alert", "log/violation", "log/system", "log/notice", "pid/died"]) expect(kinds).toContain(k);

  // --status reads the same database, read-only, while nothing runs
  const st = run(["--status", "--config", conf]);
  expect(st.code).toBe(0);
  expect(st.stdout).toContain(logf);
  expect(st.stdout).toContain(pidf);
}, 180000);

test("sendmail transport hands the report to a local MTA program", async () => {
  const out = join(dir, "sendmail.out");
  const fake = join(dir, "fake-sendmail");
  writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > ${out}.args\ncat > ${out}\n`);
  chmodSync(fake, 0o755);
  const logf = join(dir, "sm.log");
  writeFileSync(logf, "");
  const conf = writeConfig(dir, [
    `email = root@example.org`, `sendmail = ${fake}`, `database = ${join(dir, "sm.sqlite")}`,
    `logrules = server:${join(dir, "no-rules")}`, `log = ${logf}`, `logchecktime = 1`, `logreporttime = 0`, `logreportholdoff = 0`,
  ].join("\n") + "\n", "sm.conf");
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  await Bun.sleep(500);
  appendFileSync(logf, "Nov 25 11:00:00 host kernel: sendmail-probe-line\n");
  await d.until(() => { try { return readFileSync(out, "utf8").includes("sendmail-probe-line"); } catch { return false; } }, 20000, "sendmail output");
  d.kill("SIGTERM");
  expect(await d.exited).toBe(0);
  expect(readFileSync(`${out}.args`, "utf8")).toContain("root@example.org");
  expect(readFileSync(out, "utf8")).toMatch(/^Subject: integrityd: 1 log line on /m);
}, 60000);
