// The real reporter against a real temp database and a real SMTP server on 127.0.0.1.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config/config.ts";
import { getMeta } from "../../src/db/db.ts";
import { enqueue, type NewEvent } from "../../src/db/events.ts";
import { createReportTask, type ReportOptions, type ReportTask } from "../../src/report/reporter.ts";
import { freePort, Smtp, tempDb, tempDir, testConfig, until } from "./helpers.ts";

const tmp = tempDir();
let n = 0;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => tmp.cleanup());

async function setup(over: Partial<Config>, opts: ReportOptions = {}, server?: Smtp) {
  const dir = join(tmp.dir, `r${++n}`);
  mkdirSync(dir);
  const smtp = server ?? new Smtp();
  if (!server) {
    await smtp.start();
    cleanups.push(() => smtp.stop());
  }
  const db = tempDb(dir);
  cleanups.push(() => db.close());
  const config = testConfig(dir, { smtp: { host: "127.0.0.1", port: smtp.port }, ...over });
  const ctx = { db, config };
  const start = (o: ReportOptions = opts) => {
    const task = createReportTask(ctx, { host: "testhost", retryFirst: 100, ...o });
    cleanups.push(() => task.stop());
    return task;
  };
  return { dir, db, smtp, config, ctx, start };
}

const fileEv = (subject: string, extra: Partial<NewEvent> = {}): NewEvent => ({ channel: "file", kind: "changed", subject, text: `changed: ${subject}`, ...extra });

function mailedIds(db: Database): number[] {
  return (db.query("SELECT id FROM events WHERE mailed IS NOT NULL ORDER BY id").all() as { id: number }[]).map((r) => r.id);
}

/** Every event id that appears in the mails' bodies (texts carry "#ID"). */
function idsInMails(smtp: Smtp): number[] {
  return smtp.mails.flatMap((m) => [...m.body.matchAll(/#(\d+)\b/g)].map((x) => Number(x[1]))).sort((a, b) => a - b);
}

/** Capture stderr diagnostics while fn runs. */
async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  const orig = process.stderr.write.bind(process.stderr);
  let err = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), err };
  } finally {
    process.stderr.write = orig;
  }
}

describe("reporter with a real SMTP server", () => {
  test("a burst is pooled into one mail with the right content; the next one is held off", async () => {
    const { db, smtp, start } = await setup({ reporttime: 0.4, reportholdoff: 1.2 });
    const task = start();
    const t0 = Date.now();
    enqueue(db, fileEv("/etc/passwd", { text: "changed: /etc/passwd #1" }));
    enqueue(db, fileEv("/etc/shadow", { text: "changed: /etc/shadow #2" }));
    enqueue(db, { channel: "file", kind: "new", subject: "/etc/evil", text: "new: /etc/evil\r\nBcc: x@example.org #3" });
    await until(() => smtp.mails.length >= 1, 5000, "first mail");
    const first = smtp.mails[0];
    expect(first.at - t0).toBeGreaterThanOrEqual(400); // pooled, not sent at once
    expect(first.subject).toBe("integrityd: 2 changed files, 1 new file on testhost");
    expect(first.to).toEqual(["admin@example.org"]);
    expect(first.body).toContain("Changed Files (2)");
    expect(first.body).toContain("New Files (1)");
    expect(first.body).toContain("changed: /etc/passwd #1");
    expect(first.body).toContain("new: /etc/evil\\x0d");
    expect(first.headers).not.toMatch(/^Bcc:/m);
    expect(first.body).toMatch(/\n-- \nintegrityd \S+ on testhost\nFiles: /);
    await until(() => mailedIds(db).length === 3, 5000, "marked");
    expect(mailedIds(db)).toEqual([1, 2, 3]);
    const row = db.query("SELECT events, ok FROM mails").all();
    expect(row).toEqual([{ events: 3, ok: 1 }]);

    enqueue(db, fileEv("/etc/hosts", { text: "changed: /etc/hosts #4" }));
    await until(() => smtp.mails.length >= 2, 5000, "second mail");
    // held off: the second mail left at least 1.2 s after the first was accepted and recorded
    expect(smtp.mails[1].at - first.at).toBeGreaterThanOrEqual(1200);
    expect(smtp.mails[1].subject).toBe("integrityd: 1 changed file on testhost");
    expect(idsInMails(smtp)).toEqual([1, 2, 3, 4]);
    await task.stop();
  });

  test("urgent events skip pooling and hold-off; a cracking alert gets the SECURITY ALERT subject; the next urgent waits", async () => {
    const { db, smtp, start } = await setup({ reporttime: 300, reportholdoff: 900, logreporttime: 300, logreportholdoff: 900 });
    start();
    enqueue(db, { channel: "log", kind: "alert", urgent: true, subject: "/var/log/auth.log", section: "Security Alerts", text: "sshd[1]: cracking attempt #1" });
    enqueue(db, fileEv("/etc/x", { text: "changed: /etc/x #2" })); // pooled for 300 s: not in this mail
    await until(() => smtp.mails.length >= 1, 5000, "urgent mail");
    const m = smtp.mails[0];
    expect(m.subject).toBe("SECURITY ALERT: 1 cracking line on testhost");
    expect(m.body).toContain("Security Alerts (1)\n=-=-=-=-=-=-=-=-=-=\n\n/var/log/auth.log:\n  sshd[1]: cracking attempt #1\n");
    await until(() => mailedIds(db).length === 1, 5000, "marked");
    expect(mailedIds(db)).toEqual([1]);
    // a second urgent event within the minute is capped: it stays queued
    enqueue(db, { channel: "pid", kind: "died", urgent: true, subject: "/run/sshd.pid", text: "sshd died #3" });
    await Bun.sleep(400);
    expect(smtp.mails.length).toBe(1);
    expect(mailedIds(db)).toEqual([1]);
    expect((db.query("SELECT count(*) AS n FROM events WHERE mailed IS NULL").get() as { n: number }).n).toBe(2);
  });

  test("SMTP server down, then up: every event arrives, none twice; a restarted reporter sends nothing again", async () => {
    const port = await freePort();
    const smtp = new Smtp();
    const { db, start } = await setup({ smtp: { host: "127.0.0.1", port } }, {}, Object.assign(smtp, { port }));
    let task!: ReportTask;
    const { err } = await captureStderr(async () => {
      task = start();
      for (let i = 1; i <= 4; i++) enqueue(db, fileEv(`/f${i}`, { text: `changed: /f${i} #${i}` }));
      await until(() => (db.query("SELECT count(*) AS n FROM mails WHERE ok = 0").get() as { n: number }).n >= 2, 5000, "two failed attempts");
    });
    expect(err).toMatch(/^error: mail: delivery of 4 events failed \(attempt 1\): smtp 127\.0\.0\.1:\d+: .*retrying in/m);
    expect(mailedIds(db)).toEqual([]);
    const fail = db.query("SELECT events, ok, error FROM mails WHERE ok = 0 LIMIT 1").get() as { events: number; ok: number; error: string };
    expect(fail.events).toBe(4);
    expect(fail.error).toContain(`127.0.0.1:${port}`);
    // more events while down, then the server comes up on that port
    enqueue(db, fileEv("/f5", { text: "changed: /f5 #5" }));
    await smtp.start(port);
    cleanups.push(() => smtp.stop());
    await until(() => mailedIds(db).length === 5, 10_000, "all events mailed");
    expect(idsInMails(smtp)).toEqual([1, 2, 3, 4, 5]);
    await task.stop();
    // restart: a new reporter on the same database has nothing to send
    const again = start();
    await again.kick();
    await Bun.sleep(100);
    await again.kick();
    expect(idsInMails(smtp)).toEqual([1, 2, 3, 4, 5]);
    // and it does send what comes next
    enqueue(db, fileEv("/f6", { text: "changed: /f6 #6" }));
    await until(() => mailedIds(db).length === 6, 5000, "event 6");
    expect(idsInMails(smtp)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("refused auth: retried, reported on stderr and in the mails table; fixed by a reload", async () => {
    const smtp = new Smtp({ user: "alice", pass: "right" });
    await smtp.start();
    cleanups.push(() => smtp.stop());
    const { db, config, start } = await setup({ smtpuser: "alice", smtppass: "wrong" }, {}, smtp);
    let task!: ReportTask;
    const { err } = await captureStderr(async () => {
      task = start();
      enqueue(db, fileEv("/a", { text: "changed: /a #1" }));
      // the client logs and records an attempt after the server counted it: wait for the records
      await until(() => (db.query("SELECT count(*) AS n FROM mails WHERE ok = 0").get() as { n: number }).n >= 2, 5000, "two refused attempts");
    });
    expect(err).toMatch(/error: mail: delivery of 1 event failed \(attempt 1\): .*(auth|Invalid)/i);
    expect(err).toMatch(/attempt 2/);
    const fails = db.query("SELECT error FROM mails WHERE ok = 0").all() as { error: string }[];
    expect(fails.length).toBeGreaterThanOrEqual(2);
    expect(fails[0].error).toMatch(/auth|Invalid/i);
    expect(smtp.mails.length).toBe(0);
    await task.reload!({ ...config, smtppass: "right" });
    await until(() => smtp.mails.length === 1, 5000, "mail after the fix");
    expect(smtp.mails[0].user).toBe("alice");
    await until(() => mailedIds(db).length === 1, 5000, "marked");
  });

  test("a report over the event limit is one flood summary: first and last shown, all counted, all marked, nothing twice", async () => {
    const { db, smtp, start } = await setup({});
    for (let i = 1; i <= 7; i++) enqueue(db, { channel: "log", kind: "system", section: "System Events", subject: "/var/log/syslog", text: `line #${i}` });
    start({ maxEvents: 3, floodShow: 1 });
    await until(() => mailedIds(db).length === 7, 5000, "all mailed");
    await Bun.sleep(300); // a second mail would go out now if one were due
    expect(smtp.mails.length).toBe(1);
    expect(smtp.mails[0].subject).toBe("integrityd: 7 log lines on testhost");
    expect(smtp.mails[0].body).toContain("System Events (7)");
    expect(smtp.mails[0].body).toContain("[... 5 more not shown ...]");
    expect(idsInMails(smtp)).toEqual([1, 7]);
  });

  test("mail off: events stay queued, sinks still run", async () => {
    const { db, dir, smtp, start } = await setup({ email: [], jsonlog: "" });
    const path = join(dir, "events.jsonl");
    const task = start();
    enqueue(db, fileEv("/a"));
    await task.kick();
    await task.reload!({ ...testConfig(dir), email: [], jsonlog: path });
    await until(() => existsSync(path) && readFileSync(path, "utf8").length > 0, 5000, "jsonlog line");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8")).integrityd.subject).toBe("/a");
    expect(smtp.mails.length).toBe(0);
    expect(mailedIds(db)).toEqual([]);
  });
});

describe("reporter with sendmail", () => {
  test("a stand-in sendmail gets the report", async () => {
    const dir = join(tmp.dir, "sendmail");
    mkdirSync(dir);
    const out = join(dir, "out");
    const script = join(dir, "sendmail");
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}.argv'\ncat >> '${out}'\n`);
    chmodSync(script, 0o755);
    const { db, start } = await setup({ sendmail: script, jsonlog: join(dir, "j.jsonl") });
    start();
    enqueue(db, { channel: "pid", kind: "died", urgent: true, subject: "/run/cron.pid", text: "cron (PID 77) died #1" });
    await until(() => mailedIds(db).length === 1, 5000, "mailed");
    const msg = readFileSync(out, "utf8");
    expect(msg).toContain("Subject: Process alert: 1 process died on testhost\n");
    expect(msg).toContain("Process Events (1)");
    expect(msg).toContain("cron (PID 77) died #1");
    expect(readFileSync(`${out}.argv`, "utf8")).toBe("-i\n-f\nintegrityd@test.example\nadmin@example.org\n");
    await until(() => existsSync(join(dir, "j.jsonl")), 5000, "jsonlog");
    expect(JSON.parse(readFileSync(join(dir, "j.jsonl"), "utf8")).integrityd.kind).toBe("died");
  });
});

describe("reporter with syslog", () => {
  test("events reach a unix datagram socket through logger, after it appears", async () => {
    const { db, dir, start } = await setup({ email: [], syslog: true, syslogfacility: "local3" });
    const sock = join(dir, "log.sock");
    const out = join(dir, "received");
    writeFileSync(out, "");
    const receive = async () => {
      const rx = Bun.spawn(["python3", "-c", "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nf=open(sys.argv[2],'ab',buffering=0)\nwhile True: f.write(s.recv(65536)+b'\\n')", sock, out], { stdout: "ignore" });
      cleanups.push(async () => {
        rx.kill();
        await rx.exited;
      });
      await until(() => readFileSync(out, "utf8").length > 0, 10_000, "syslog datagram");
      // local3 (19) * 8 + alert (1) = 153
      expect(readFileSync(out, "utf8")).toMatch(/^<153>.*integrityd\[\d+\]: \[pid\/died\] \/run\/a\.pid: a died\\x0d \| forged\n$/);
      // the cursor is saved once logger has exited, just after the datagram left
      await until(() => getMeta(db, "cursor.syslog") === "1", 5000, "the syslog cursor");
    };
    const { err } = await captureStderr(async () => {
      start({ syslogSocket: sock });
      enqueue(db, { channel: "pid", kind: "died", urgent: true, subject: "/run/a.pid", text: "a died\r\nforged" });
      await Bun.sleep(300); // a failed attempt (no socket yet)
      await receive();
    });
    expect(err).toMatch(/error: syslog .*log\.sock: logger exited with 1/);
  });
});

describe("outputs do not wait for each other", () => {
  test("a hung SMTP session (a server that accepts and never answers) does not delay the JSON log", async () => {
    const sockets: import("bun").Socket[] = [];
    const hung = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open(s) { sockets.push(s); }, data() {} } });
    const dir = join(tmp.dir, `hung${++n}`);
    mkdirSync(dir);
    const db = tempDb(dir);
    cleanups.push(() => db.close());
    const jsonl = join(dir, "events.jsonl");
    const config = testConfig(dir, { smtp: { host: "127.0.0.1", port: hung.port }, jsonlog: jsonl, reporttime: 0, reportholdoff: 0 });
    const task = createReportTask({ db, config }, { host: "testhost", retryFirst: 100 });
    cleanups.push(() => task.stop());
    cleanups.push(() => {
      // first of all (cleanups run in reverse): the hung session ends while the database is open
      for (const s of sockets) s.end();
      hung.stop(true);
    });
    enqueue(db, fileEv("/etc/first", { urgent: true }));
    await until(() => sockets.length > 0, 5000); // the mail is now stuck in its session
    enqueue(db, fileEv("/etc/second"));
    await until(() => existsSync(jsonl) && readFileSync(jsonl, "utf8").includes("/etc/second"), 5000);
    expect(readFileSync(jsonl, "utf8")).toContain("/etc/first");
    expect(mailedIds(db)).toEqual([]); // nothing was marked mailed by the hung session
  });
});

test("SIGHUP (reload) retries a failed delivery at once, not after the backoff", async () => {
  const port = await freePort();
  const dir = join(tmp.dir, `hup${++n}`);
  mkdirSync(dir);
  const db = tempDb(dir);
  cleanups.push(() => db.close());
  const config = testConfig(dir, { smtp: { host: "127.0.0.1", port }, reporttime: 0, reportholdoff: 0 });
  const task = createReportTask({ db, config }, { host: "testhost", retryFirst: 600_000 });
  cleanups.push(() => task.stop());
  enqueue(db, fileEv("/etc/passwd", { urgent: true }));
  const { err } = await captureStderr(() => until(() => (db.query("SELECT count(*) AS n FROM mails WHERE ok = 0").get() as { n: number }).n >= 1, 5000, "a failed attempt"));
  expect(err).toContain("ECONNREFUSED");
  const smtp = new Smtp();
  await smtp.start(port);
  cleanups.push(() => smtp.stop());
  await captureStderr(async () => {
    task.reload!(config);
    await until(() => smtp.mails.length === 1, 5000, "the mail after SIGHUP"); // the backoff would be 10 minutes
  });
  expect(smtp.mails[0].body).toContain("/etc/passwd");
});

test("a flood of urgent lines with an ordinary event pending keeps the caps: one mail, then one a minute at most", async () => {
  // the attack: one ordinary event past its pool window, then a flood of cracking lines
  const { db, smtp, start } = await setup({ reporttime: 0, reportholdoff: 900, logreporttime: 0, logreportholdoff: 900 });
  enqueue(db, fileEv("/etc/ordinary"));
  const ins = db.query("INSERT INTO events (time, channel, kind, urgent, subject, section, text) VALUES (?, 'log', 'alert', 1, '/var/log/auth.log', 'Security Alerts', ?)");
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < 60_000; i++) ins.run(now, `sshd[1]: Invalid user EVIL-ATTACK-${i} from 10.0.0.1`);
  })();
  start({ maxEvents: 5000 });
  await until(() => smtp.mails.length >= 1, 20_000, "the first mail");
  await until(() => (db.query("SELECT count(*) AS n FROM events WHERE mailed IS NULL").get() as { n: number }).n === 0, 20_000, "everything marked");
  await Bun.sleep(1500); // back-to-back mails would show up now
  expect(smtp.mails.length).toBe(1);
  const body = smtp.mails[0].body;
  expect(smtp.mails[0].subject).toStartWith("SECURITY ALERT:");
  expect(smtp.mails[0].subject).toBe("SECURITY ALERT: 60000 cracking lines, 1 changed file on testhost");
  expect(body).toContain("Security Alerts (60000)");
  expect(body).toContain("EVIL-ATTACK-0 from");
  expect(body).toContain("EVIL-ATTACK-59999 from");
  expect(body).toContain(`[... ${60_000 - 100} more not shown ...]`);
  expect(body).toContain("/etc/ordinary"); // the due group is in the mail it triggered
  // the flood goes on: new urgent lines wait for the urgent cap (one mail a minute)
  enqueue(db, { channel: "log", kind: "alert", urgent: true, subject: "/var/log/auth.log", section: "Security Alerts", text: "EVIL-ATTACK-late" });
  await Bun.sleep(1500);
  expect(smtp.mails.length).toBe(1);
});

test("a violation right after other log mail goes out after logreporttime, not after the hold-off", async () => {
  const { db, smtp, start } = await setup({ logreporttime: 1, logreportholdoff: 900 });
  start();
  enqueue(db, { channel: "log", kind: "system", section: "System Events", subject: "/var/log/syslog", text: "routine" });
  await until(() => smtp.mails.length === 1, 5000, "the System Events mail");
  enqueue(db, { channel: "log", kind: "violation", section: "Security Events", subject: "/var/log/auth.log", text: "sshd[9]: Failed password for root" });
  await until(() => smtp.mails.length === 2, 5000, "the violation, within about logreporttime"); // the hold-off would be 15 minutes
  expect(smtp.mails[1].body).toContain("Failed password for root");
  enqueue(db, { channel: "log", kind: "violation", section: "Security Events", subject: "/var/log/auth.log", text: "sshd[9]: Failed password for bob" });
  await Bun.sleep(2500); // the next one of the burst waits for the violations' own hold-off
  expect(smtp.mails.length).toBe(2);
});

test("the footer says in plain words how many events still wait for a later mail", async () => {
  const { db, smtp, start } = await setup({ reporttime: 3600, reportholdoff: 3600 });
  enqueue(db, fileEv("/etc/pooled-for-an-hour"));
  enqueue(db, { channel: "log", kind: "alert", urgent: true, subject: "/var/log/auth.log", section: "Security Alerts", text: "sshd[1]: cracking" });
  start({ coverage: () => ({ entries: 7200, cycleSeconds: 7200, oldestCheckAgeSec: 60 }) });
  await until(() => smtp.mails.length === 1, 5000, "the urgent mail");
  expect(smtp.mails[0].body).toContain("Files: every file is re-checked about every 2h 0m at the current rates (7200 entries); the oldest check was 1m 0s ago.");
  expect(smtp.mails[0].body).toContain("1 more event is waiting for a later mail.");
});
