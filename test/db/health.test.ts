// Database health: the pure identity judgement, quick_check on a really
// damaged file, and the compiled daemon facing a corrupt, read-only, deleted
// database and a deleted WAL — each an alert by mail (a real SMTP server on
// 127.0.0.1) and exit 74.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, openSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { initDatabase } from "../../src/db/db.ts";
import { isCorruption, judgeIdentity, quickCheck } from "../../src/db/health.ts";
import { run, tempDir, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";
import { TestSmtp } from "../support/smtp.ts";

let dir = "";
let cleanup = () => {};
const smtp = new TestSmtp();
beforeAll(async () => {
  ({ dir, cleanup } = tempDir("integrityd-health-"));
  await smtp.start();
});
afterAll(async () => {
  await smtp.stop();
  cleanup();
});

/** Overwrite a run of pages in the middle of the file with garbage. */
function damage(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, "r+");
  const junk = Buffer.alloc(8192);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 0xff;
  writeSync(fd, junk, 0, junk.length, Math.floor(size / 2 / 4096) * 4096);
  closeSync(fd);
}

function populated(name: string): string {
  const p = join(dir, name, "db.sqlite");
  mkdirSync(join(dir, name));
  initDatabase(p);
  const db = new Database(p);
  db.exec("PRAGMA journal_mode = DELETE");
  const ins = db.query("INSERT INTO events (time, channel, kind, subject, text) VALUES (?, 'file', 'new', ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) ins.run(i, `/etc/file${i}`, "x".repeat(200));
  })();
  db.close();
  return p;
}

describe("pure judgement", () => {
  const id = { dev: 1, ino: 10 };
  test("same file, nothing deleted: healthy", () => {
    expect(judgeIdentity("/db", id, { dev: 1, ino: 10 }, ["/other"])).toBeNull();
  });
  test("path gone, or our open file unlinked: deleted", () => {
    expect(judgeIdentity("/db", id, null, [])?.kind).toBe("deleted");
    expect(judgeIdentity("/db", id, { dev: 1, ino: 11 }, ["/db"])?.kind).toBe("deleted");
  });
  test("another inode at the path: replaced", () => {
    expect(judgeIdentity("/db", id, { dev: 1, ino: 11 }, [])?.kind).toBe("replaced");
  });
  test("the WAL unlinked under us", () => {
    expect(judgeIdentity("/db", id, { dev: 1, ino: 10 }, ["/db-wal"])?.kind).toBe("wal-deleted");
  });
});

test("quick_check finds real damage; a sound file passes", () => {
  const p = populated("qc");
  const sound = new Database(p, { readonly: true });
  expect(quickCheck(sound)).toEqual([]);
  sound.close();
  damage(p);
  const db = new Database(p, { readonly: true });
  let found: string[] = [];
  try {
    found = quickCheck(db);
  } catch (e) {
    expect(isCorruption(e)).toBe(true);
    found = ["thrown"];
  }
  db.close();
  expect(found.length).toBeGreaterThan(0);
});

function config(name: string, db: string): string {
  return writeConfig(dir, `database = ${db}\nemail = admin@example.org\nsmtp = 127.0.0.1:${smtp.port}\nreporttime = 1\nlogreporttime = 1\n`, `${name}.conf`);
}

const mailsAbout = (word: string) => smtp.mails.filter((m) => m.subject.includes(word));

test("a corrupt database at start: one line, exit 74, and an alert by mail", async () => {
  const p = populated("start");
  damage(p);
  // asynchronously: the SMTP server answers from this process's event loop
  const d = new DaemonProc(["--config", config("start", p)]);
  expect(await d.exited).toBe(74);
  const errors = d.stderr.split("\n").filter((l) => l.startsWith("error:"));
  expect(errors).toEqual([`error: ${p}: database is corrupt`]);
  expect(mailsAbout("cannot use its database").length).toBe(1);
  expect(mailsAbout("cannot use its database")[0].body).toContain(p);
});

test("a database made immutable (read-only) at start: exit 74 with one line, and an alert", async () => {
  const p = populated("ro");
  const chattr = Bun.spawnSync(["chattr", "+i", p], { stderr: "pipe" });
  if (chattr.exitCode !== 0) {
    console.error(`skipped (immutable database): chattr +i failed here: ${chattr.stderr.toString().trim()}`);
    return;
  }
  try {
    const d = new DaemonProc(["--config", config("ro", p)]);
    expect(await d.exited).toBe(74);
    expect(d.stderr.split("\n").filter((l) => l.startsWith("error:"))).toEqual([`error: ${p}: read-only location or file`]);
    expect(mailsAbout("cannot use its database").some((m) => m.body.includes("read-only"))).toBe(true);
  } finally {
    Bun.spawnSync(["chattr", "-i", p]);
  }
});

test("the database deleted while the daemon runs: alert, exit 74", async () => {
  const p = join(dir, "del", "db.sqlite");
  mkdirSync(join(dir, "del"));
  const conf = config("del", p);
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  rmSync(p);
  expect(await Promise.race([d.exited, Bun.sleep(30_000).then(() => -1)])).toBe(74);
  expect(d.stderr).toContain("database deleted");
  expect(mailsAbout("database deleted").length).toBe(1);
});

test("the WAL deleted while the daemon runs: its content is written back, alert, exit 74", async () => {
  const p = join(dir, "wal", "db.sqlite");
  mkdirSync(join(dir, "wal"));
  const conf = config("wal", p);
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const started = Date.now();
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  expect(existsSync(`${p}-wal`)).toBe(true);
  rmSync(`${p}-wal`);
  expect(await Promise.race([d.exited, Bun.sleep(30_000).then(() => -1)])).toBe(74);
  expect(mailsAbout("database journal deleted").length).toBe(1);
  // what the daemon wrote after it opened the database (meta 'opened') was in the deleted WAL
  const db = new Database(p, { readonly: true });
  const opened = Number((db.query("SELECT value FROM meta WHERE key = 'opened'").get() as { value: string }).value);
  db.close();
  expect(opened).toBeGreaterThanOrEqual(started - 1000);
});
