// The database lock: one holder at a time, gone with its process (kill -9
// included), never confused by another program that reuses the holder's PID.
import { afterAll, expect, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lockDatabase, lockHolder, lockPath } from "../../src/db/lock.ts";
import { ExitError } from "../../src/util/exit.ts";
import { run, tempDir, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";

const { dir, cleanup } = tempDir("integrityd-lock-");
afterAll(() => cleanup());

test("a second holder gets exit 75 naming the first; released, it can be taken again", () => {
  const db = join(dir, "a.sqlite");
  const first = lockDatabase(db, "test");
  let err: unknown;
  try {
    lockDatabase(db, "the second");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ExitError);
  expect((err as ExitError).code).toBe(75);
  expect((err as ExitError).message).toContain(`(PID ${process.pid})`);
  first.release();
  lockDatabase(db, "test").release();
});

test("a lock file planted as a symlink is never followed", () => {
  const db = join(dir, "b.sqlite");
  const target = join(dir, "victim");
  writeFileSync(target, "precious\n");
  symlinkSync(target, lockPath(db));
  let err: unknown;
  try {
    lockDatabase(db, "test");
  } catch (e) {
    err = e;
  }
  expect((err as ExitError).code).toBe(74);
  expect(Bun.file(target).size).toBe(9);
});

test("the daemon holds it: --scan-once and a second daemon get 75; after kill -9 a restart is not blocked, even by a process that reuses the PID's name", async () => {
  const conf = writeConfig(dir, `database = ${join(dir, "d.sqlite")}\nemail = none\n`, "d.conf");
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  const scan = run(["--scan-once", "--config", conf]);
  expect(scan.code).toBe(75);
  expect(scan.stderr).toContain(`(PID ${d.proc.pid})`);
  const second = run(["--config", conf]);
  expect(second.code).toBe(75);
  d.kill("SIGKILL");
  await d.exited;
  // a process whose command line says integrityd, alive, does not hold the lock
  const decoy = Bun.spawn(["/bin/sh", "-c", "exec -a integrityd sleep 30"]);
  try {
    const again = new DaemonProc(["--config", conf]);
    await again.waitFor(/integrityd started/);
    again.kill("SIGTERM");
    expect(await again.exited).toBe(0);
  } finally {
    decoy.kill();
  }
});

test("who holds the lock is read from /proc/locks, without taking it", () => {
  const db = join(dir, "h.sqlite");
  expect(lockHolder(db)).toBeNull(); // no lock file yet
  const l = lockDatabase(db, "test");
  expect(lockHolder(db)).toBe(process.pid);
  l.release();
  expect(lockHolder(db)).toBeNull();
  // asking did not take it: it can be taken right after
  lockDatabase(db, "test").release();
});
