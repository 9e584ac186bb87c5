// The watcher against real processes, real PID files and a real database.
import { afterAll, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { type Subprocess, spawn, spawnSync } from "bun";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, type PidSpec } from "../../src/config/config.ts";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { ProcFs, parseStatus } from "../../src/pids/proc.ts";
import { checkPids, createPidTask } from "../../src/pids/pids.ts";
import { pidStatus } from "../../src/pids/status.ts";

const top = mkdtempSync(join(tmpdir(), "integrityd-pids-"));
const children: Subprocess[] = [];
const extraPids: number[] = [];
afterAll(() => {
  for (const c of children) c.kill(9);
  for (const p of extraPids) try { process.kill(p, 9); } catch { /* gone */ }
  rmSync(top, { recursive: true, force: true });
});

let n = 0;
function setup(): { dir: string; dbPath: string; db: Database } {
  const dir = join(top, `case${++n}`);
  mkdirSync(dir);
  const dbPath = join(dir, "db.sqlite");
  initDatabase(dbPath);
  return { dir, dbPath, db: openDatabase(dbPath) };
}

function sleeper(): Subprocess {
  const p = spawn(["sleep", "1000"], { stdout: "ignore", stderr: "ignore" });
  children.push(p);
  return p;
}

interface Ev { id: number; kind: string; subject: string; text: string; urgent: number; details: string }
const cursor = new Map<string, number>();
/** The pid events queued since the last call for this database file. */
function newEvents(db: Database): Ev[] {
  const rows = db.query("SELECT * FROM events WHERE channel = 'pid' AND id > ? ORDER BY id").all(cursor.get(db.filename) ?? 0) as Ev[];
  if (rows.length) cursor.set(db.filename, rows[rows.length - 1].id);
  return rows;
}
const kinds = (evs: Ev[]) => evs.map((e) => e.kind);
const host = (path: string): PidSpec => ({ path, pidct: 100, line: 1 });

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
const procState = (pid: number) => new ProcFs().stat(pid)?.state ?? null;

describe("single PID file", () => {
  test("baseline, died (once, urgent), restarted under a new PID", async () => {
    const { dir, db } = setup();
    const f = join(dir, "svc.pid");
    const a = sleeper();
    writeFileSync(f, `${a.pid}\n`);
    const specs = [host(f)];
    expect((await checkPids(db, specs)).files).toBe(1);
    expect(newEvents(db)).toEqual([]); // baseline: no report
    await checkPids(db, specs);
    expect(newEvents(db)).toEqual([]);

    a.kill(9);
    await a.exited;
    await checkPids(db, specs);
    const died = newEvents(db);
    expect(kinds(died)).toEqual(["died"]);
    expect(died[0].urgent).toBe(1);
    expect(died[0].subject).toBe(f);
    expect(died[0].text).toContain(f);
    expect(died[0].text).toContain("died");
    expect(died[0].text).toContain(`PID ${a.pid} (sleep)`);
    await checkPids(db, specs);
    expect(newEvents(db)).toEqual([]); // once

    const b = sleeper();
    writeFileSync(f, `${b.pid}\n`);
    await checkPids(db, specs);
    const rec = newEvents(db);
    expect(kinds(rec)).toEqual(["recovered"]);
    expect(rec[0].text).toContain(`PID ${b.pid} (sleep) running`);

    const c = sleeper();
    writeFileSync(f, `  ${c.pid}  `);
    await checkPids(db, specs);
    const rs = newEvents(db);
    expect(kinds(rs)).toEqual(["restarted"]);
    expect(rs[0].text).toContain(f);
    expect(rs[0].text).toContain(`PID ${b.pid} (sleep) was replaced by PID ${c.pid} (sleep)`);
    const details = JSON.parse(rs[0].details);
    expect(details.previous.pid).toBe(b.pid);
    expect(details.process.pid).toBe(c.pid);
    await checkPids(db, specs);
    expect(newEvents(db)).toEqual([]);

    const st = pidStatus(db);
    expect(st.length).toBe(1);
    expect(st[0]).toMatchObject({ pidfile: f, pid: c.pid, name: "sleep", state: "ok" });
    db.close();
  });

  test("zombie: a parent that does not reap its child; then reaped: died", async () => {
    const { dir, db } = setup();
    const f = join(dir, "z.pid");
    // perl forks a `sleep` child, prints its PID, and reaps it only when told on stdin
    const parent = spawn(
      ["perl", "-e", '$|=1; my $p = fork(); if (!$p) { exec "sleep", "1000"; exit 1 } print "$p\\n"; <STDIN>; waitpid($p, 0); sleep 1000'],
      { stdin: "pipe", stdout: "pipe", stderr: "ignore" },
    );
    children.push(parent);
    const reader = parent.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    const child = Number(out.trim());
    extraPids.push(child);
    expect(child).toBeGreaterThan(1);
    await waitFor("child to exec sleep", () => new ProcFs().stat(child)?.name === "sleep");
    writeFileSync(f, `${child}\n`);
    await checkPids(db, [host(f)]);
    expect(newEvents(db)).toEqual([]);

    process.kill(child, "SIGTERM");
    await waitFor("zombie", () => procState(child) === "Z");
    await checkPids(db, [host(f)]);
    const z = newEvents(db);
    expect(kinds(z)).toEqual(["zombie"]);
    expect(z[0].text).toContain(f);
    expect(z[0].text).toContain(`PID ${child} (sleep) is a zombie`);
    await checkPids(db, [host(f)]);
    expect(newEvents(db)).toEqual([]); // once

    parent.stdin.write("reap\n");
    parent.stdin.flush();
    await waitFor("zombie reaped", () => procState(child) === null);
    await checkPids(db, [host(f)]);
    expect(kinds(newEvents(db))).toEqual(["died"]);
    db.close();
  });

  test("PID reuse: another live process, and the same PID with another start time", async () => {
    const { dir, db } = setup();
    const f = join(dir, "reuse.pid");
    const a = sleeper();
    writeFileSync(f, `${a.pid}`);
    await checkPids(db, [host(f)]);
    // the file now points at a different live process (older: this test runner)
    writeFileSync(f, `${process.pid}`);
    await checkPids(db, [host(f)]);
    const r = newEvents(db);
    expect(kinds(r)).toEqual(["restarted"]);
    expect(r[0].text).toContain(`PID ${a.pid} (sleep) was replaced by PID ${process.pid}`);

    // same PID, but the process we knew had another start time: PID reuse
    db.query("UPDATE pids SET start = start + 12345 WHERE pidfile = ?").run(f);
    await checkPids(db, [host(f)]);
    const reuse = newEvents(db);
    expect(kinds(reuse)).toEqual(["restarted"]);
    expect(reuse[0].text).toContain("PID reused");
    db.close();
  });

  test("a thread ID is not a process", async () => {
    const { dir, db } = setup();
    const tids = readdirSync(`/proc/${process.pid}/task`).map(Number).filter((t) => t !== process.pid);
    expect(tids.length).toBeGreaterThan(0); // bun runs helper threads
    const f = join(dir, "thread.pid");
    writeFileSync(f, `${tids[0]}`);
    await checkPids(db, [host(f)]);
    expect(pidStatus(db)[0].state).toBe("died");
    writeFileSync(f, `${process.pid}`);
    await checkPids(db, [host(f)]);
    expect(pidStatus(db)[0].state).toBe("ok");
    db.close();
  });

  test("PID file removed and created again", async () => {
    const { dir, db } = setup();
    const f = join(dir, "rm.pid");
    const a = sleeper();
    writeFileSync(f, `${a.pid}`);
    await checkPids(db, [host(f)]);
    unlinkSync(f);
    await checkPids(db, [host(f)]);
    const rm = newEvents(db);
    expect(kinds(rm)).toEqual(["removed"]);
    expect(rm[0].text).toContain(f);
    await checkPids(db, [host(f)]);
    expect(newEvents(db)).toEqual([]);
    writeFileSync(f, `${a.pid}`);
    await checkPids(db, [host(f)]);
    expect(kinds(newEvents(db))).toEqual(["created"]);
    db.close();
  });

  test("state survives a restart of the watcher (new database handle)", async () => {
    const { dir, db, dbPath } = setup();
    const f1 = join(dir, "one.pid");
    const f2 = join(dir, "two.pid");
    const a = sleeper();
    const b = sleeper();
    writeFileSync(f1, `${a.pid}`);
    writeFileSync(f2, `${b.pid}`);
    const specs = [host(f1), host(f2)];
    await checkPids(db, specs);
    db.close();
    // while "integrityd is down": one dies, the other restarts
    a.kill(9);
    await a.exited;
    const c = sleeper();
    writeFileSync(f2, `${c.pid}`);
    const db2 = openDatabase(dbPath);
    await checkPids(db2, specs);
    const evs = newEvents(db2);
    expect(evs.map((e) => `${e.kind} ${e.subject}`).sort()).toEqual([`died ${f1}`, `restarted ${f2}`]);
    db2.close();
    const db3 = openDatabase(dbPath);
    await checkPids(db3, specs);
    expect(newEvents(db3)).toEqual([]);
    db3.close();
  });
});

describe("PID file directory", () => {
  test("garbage, symlinked and odd PID files: one clear report each; a new file is picked up", async () => {
    const { dir, db } = setup();
    const d = join(dir, "run");
    mkdirSync(join(d, "sub"), { recursive: true });
    const a = sleeper();
    writeFileSync(join(d, "good.pid"), `${a.pid}\n`);
    writeFileSync(join(d, "garbage.pid"), "hello\x1b[2J\n");
    writeFileSync(join(d, "empty.pid"), "\n");
    writeFileSync(join(d, "neg.pid"), "-12\n");
    writeFileSync(join(d, "sub", "range.pid"), "99999999\n");
    writeFileSync(join(dir, "elsewhere"), `${a.pid}\n`);
    symlinkSync(join(dir, "elsewhere"), join(d, "link.pid"));
    writeFileSync(join(d, "ignored.txt"), "garbage");

    await checkPids(db, [host(d)]);
    const first = newEvents(db);
    const byFile = new Map(first.map((e) => [e.subject.slice(d.length + 1), e]));
    expect([...byFile.keys()].sort()).toEqual(["empty.pid", "garbage.pid", "link.pid", "neg.pid", "sub/range.pid"]);
    expect(first.every((e) => e.kind === "error")).toBe(true);
    expect(byFile.get("link.pid")!.text).toContain("symbolic link");
    expect(byFile.get("garbage.pid")!.text).toContain("not a PID: 'hello\\x1b[2J'");
    expect(byFile.get("empty.pid")!.text).toContain("empty");
    expect(byFile.get("neg.pid")!.text).toContain("negative");
    expect(byFile.get("sub/range.pid")!.text).toContain("out of range");
    for (const e of first) expect(/[\x00-\x1f]/.test(e.text)).toBe(false);

    await checkPids(db, [host(d)]);
    expect(newEvents(db)).toEqual([]); // once

    // a new PID file appears, deep down; a garbage one is fixed
    const b = sleeper();
    mkdirSync(join(d, "sub", "deeper"));
    writeFileSync(join(d, "sub", "deeper", "new.pid"), `${b.pid}`);
    writeFileSync(join(d, "garbage.pid"), `${b.pid}`);
    await checkPids(db, [host(d)]);
    const second = newEvents(db);
    expect(second.map((e) => `${e.kind} ${e.subject.slice(d.length + 1)}`).sort()).toEqual([
      "created sub/deeper/new.pid", "recovered garbage.pid",
    ]);
    expect(second.find((e) => e.kind === "created")!.text).toContain(`PID ${b.pid} (sleep) running`);

    unlinkSync(join(d, "good.pid"));
    await checkPids(db, [host(d)]);
    expect(newEvents(db).map((e) => `${e.kind} ${e.subject.slice(d.length + 1)}`)).toEqual(["removed good.pid"]);
    expect(pidStatus(db).map((r) => r.pidfile)).toContain(join(d, "sub/deeper/new.pid"));
    db.close();
  });

  test("hostile file names are escaped in subject and text", async () => {
    const { dir, db } = setup();
    const d = join(dir, "hostile");
    mkdirSync(d);
    const name = Buffer.concat([Buffer.from(`${d}/evil\n`), Buffer.from([0xff, 0x1b]), Buffer.from("x.pid")]);
    writeFileSync(name, "nonsense");
    await checkPids(db, [host(d)]);
    const evs = newEvents(db);
    expect(kinds(evs)).toEqual(["error"]);
    expect(evs[0].subject).toBe(`${d}/evil\\n\\xff\\x1bx.pid`);
    expect(evs[0].text.startsWith(`${evs[0].subject}: error: `)).toBe(true);
    expect(pidStatus(db)[0].pidfile).toBe(evs[0].subject);
    db.close();
  });

  test("a newly configured path is a baseline; an unconfigured one is forgotten", async () => {
    const { dir, db } = setup();
    const a = sleeper();
    const f1 = join(dir, "a.pid");
    const f2 = join(dir, "b.pid");
    writeFileSync(f1, `${a.pid}`);
    writeFileSync(f2, "1999999");
    await checkPids(db, [host(f1)]);
    await checkPids(db, [host(f1), host(f2)]);
    expect(newEvents(db)).toEqual([]); // f2 names no process, but it is new: recorded silently
    expect(pidStatus(db).map((r) => `${r.pidfile} ${r.state}`)).toEqual([`${f1} ok`, `${f2} died`]);
    await checkPids(db, [host(f1)]);
    expect(pidStatus(db).map((r) => r.pidfile)).toEqual([f1]);
    expect(newEvents(db)).toEqual([]);
    db.close();
  });
});

describe("the daemon task", () => {
  test("checks on its timer, reports, and applies a reload", async () => {
    const { dir, db } = setup();
    const a = sleeper();
    const f = join(dir, "t.pid");
    writeFileSync(f, `${a.pid}`);
    const config = { ...defaultConfig(join(dir, "c.conf")), pidfiles: [host(f)], pidchecktime: 0.02 };
    const task = createPidTask({ db, config });
    try {
      expect(task.name).toBe("pids");
      await waitFor("baseline", () => pidStatus(db).length === 1);
      a.kill(9);
      await a.exited;
      const seen: Ev[] = [];
      await waitFor("died", () => (seen.push(...newEvents(db)), seen.some((e) => e.kind === "died")));
      expect(kinds(seen)).toEqual(["died"]);
      const g = join(dir, "g.pid");
      writeFileSync(g, "junk");
      task.reload!({ ...config, pidfiles: [host(f), host(g)] });
      await waitFor("reload", () => pidStatus(db).length === 2);
      await waitFor("error report", () => (seen.push(...newEvents(db)), seen.some((e) => e.kind === "error")));
      expect(seen.filter((e) => e.kind === "error").map((e) => e.subject)).toEqual([g]);
    } finally {
      await task.stop();
    }
    const checked = (db.query("SELECT max(checked) AS c FROM pids").get() as { c: number }).c;
    await Bun.sleep(60);
    expect((db.query("SELECT max(checked) AS c FROM pids").get() as { c: number }).c).toBe(checked); // stopped
    db.close();
  });
});

describe("PID namespace (unshare --pid)", () => {
  const probe = spawnSync(["unshare", "--pid", "--fork", "--mount-proc", "true"], { stderr: "pipe" });
  const reason = probe.exitCode === 0 ? "" : `unshare not permitted here: ${probe.stderr.toString().trim() || `exit ${probe.exitCode}`}`;
  if (reason) console.log(`skipping PID namespace test: ${reason}`);

  test.skipIf(reason !== "")("a container's PID file maps to the host PID via NSpid", async () => {
    const { dir, db } = setup();
    const f = join(dir, "ns.pid");
    const outer = spawn(
      ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", 'sleep 1000 & echo $! > "$1.tmp" && mv "$1.tmp" "$1"; while :; do sleep 1000; done', "sh", f],
      { stdout: "ignore", stderr: "ignore" },
    );
    children.push(outer);
    await waitFor("PID file inside the namespace", () => {
      try { return readFileSync(f, "utf8").trim() !== ""; } catch { return false; }
    });
    const nsPid = Number(readFileSync(f, "utf8").trim());
    // the namespace's init: the child of unshare
    const init = Number(readFileSync(`/proc/${outer.pid}/task/${outer.pid}/children`, "utf8").trim().split(/\s+/)[0]);
    expect(init).toBeGreaterThan(1);
    extraPids.push(init);
    expect(parseStatus(readFileSync(`/proc/${init}/status`, "latin1")).nspid).toEqual([init, 1]);

    const spec = { path: f, pidct: init, line: 1 };
    await checkPids(db, [spec]);
    expect(newEvents(db)).toEqual([]);
    const row = db.query("SELECT filepid, hostpid, name, state FROM pids").get() as { filepid: number; hostpid: number; name: string; state: string };
    expect(row.filepid).toBe(nsPid);
    expect(row.state).toBe("ok");
    expect(row.name).toBe("sleep");
    expect(row.hostpid).not.toBe(nsPid);
    expect(parseStatus(readFileSync(`/proc/${row.hostpid}/status`, "latin1")).nspid).toEqual([row.hostpid, nsPid]);

    // the same file read as a host PID file would name another process (or none)
    process.kill(row.hostpid, 9);
    await waitFor("namespaced sleep to die", () => procState(row.hostpid) === null);
    await checkPids(db, [spec]);
    const died = newEvents(db);
    expect(kinds(died)).toEqual(["died"]);
    expect(died[0].text).toContain(`PID ${nsPid} (sleep)`);

    // the container stops: its pidct names no process any more
    outer.kill(9);
    await outer.exited;
    await waitFor("namespace init dead", () => procState(init) === null || procState(init) === "Z");
    await checkPids(db, [spec]);
    const err = newEvents(db);
    expect(kinds(err)).toEqual(["error"]);
    expect(err[0].text).toContain(`pidct ${init}`);
    db.close();
  });
});
