// The daemon's backfill task on this host's dpkg database, with apt's
// directories pointed at empty temp ones (APT_CONFIG): no .deb, so every
// package gets dpkg's MD5 list at best; the counts land in meta for --status.
// Under the test runner the pass runs in the process; the second test gives
// the task the real binary as its child.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { META_BACKFILL, packagesStatus } from "../../src/packages/status.ts";
import { createPackagesTask } from "../../src/packages/task.ts";
import { defaultConfig } from "../../src/config/config.ts";
import { tempDatabase } from "../support/db.ts";
import { BACKFILL_CHILD_ARG, childBackfill } from "../../src/packages/backfillchild.ts";
import { BIN, ensureBinary } from "../support/binary.ts";
import { ChildStartError } from "../../src/util/selfchild.ts";

/** PIDs of this test process's children whose command line holds `arg` (not the machine's: other runs may have theirs). */
function ourChildren(arg: string): string[] {
  return Bun.spawnSync(["pgrep", "-P", String(process.pid), "-f", "--", arg]).stdout.toString().trim().split("\n").filter(Boolean);
}

/** apt's directories pointed at empty ones under `dir` (APT_CONFIG); returns the undo. */
function emptyApt(dir: string): () => void {
  const saved = process.env.APT_CONFIG;
  mkdirSync(join(dir, "lists"));
  mkdirSync(join(dir, "cache/archives"), { recursive: true });
  writeFileSync(join(dir, "apt.conf"), `Dir::Etc::SourceList "${dir}/none";\nDir::Etc::SourceParts "${dir}/lists";\nDir::State::Lists "${dir}/lists";\nDir::Cache "${dir}/cache";\n`);
  process.env.APT_CONFIG = join(dir, "apt.conf");
  return () => {
    if (saved === undefined) delete process.env.APT_CONFIG;
    else process.env.APT_CONFIG = saved;
  };
}

test.skipIf(!existsSync("/var/lib/dpkg/status") || !existsSync("/usr/bin/apt-config"))("the backfill task records md5-only manifests and its counts, and stops when asked", async () => {
  const t = tempDatabase("integrityd-pkgtask-");
  const restore = emptyApt(t.dir);
  try {
    expect(createPackagesTask({ db: t.db, config: { ...defaultConfig("x"), packages: "off" } })).toBeNull();
    const task = createPackagesTask({ db: t.db, config: defaultConfig("x") }, { start: 0, pace: 0, again: 1e9 })!;
    const until = Date.now() + 50_000;
    while (Date.now() < until && !t.db.query("SELECT 1 FROM meta WHERE key = ?").get(META_BACKFILL)) await Bun.sleep(100);
    await task.stop();
    const s = packagesStatus(t.db);
    expect(s.lastBackfill).not.toBeNull();
    expect(s.lastBackfill!.verified).toBe(0);
    expect(s.lastBackfill!.md5only).toBeGreaterThan(10);
    expect(s.md5only).toBe(s.lastBackfill!.md5only);
    expect(s.paths).toBeGreaterThan(100);
  } finally {
    restore();
    t.cleanup();
  }
}, 60_000);

test.skipIf(!existsSync("/var/lib/dpkg/status") || !existsSync("/usr/bin/apt-config"))("a pass in the child (the real binary) writes manifests while the daemon's loop runs, and stopping the task stops the child", async () => {
  ensureBinary();
  const t = tempDatabase("integrityd-pkgchild-");
  const restore = emptyApt(t.dir);
  try {
    // a pace of 300 ms: the pass is still running when the task stops
    const task = createPackagesTask({ db: t.db, config: { ...defaultConfig("x"), database: t.path } }, { start: 0, pace: 300, again: 1e9 }, childBackfill([BIN]))!;
    const count = () => (t.db.query("SELECT count(*) AS n FROM pkg_versions").get() as { n: number }).n;
    const until = Date.now() + 30_000;
    while (Date.now() < until && count() < 3) await Bun.sleep(50);
    expect(count()).toBeGreaterThanOrEqual(3); // written by the child, seen through our own connection
    const running = () => ourChildren(BACKFILL_CHILD_ARG);
    expect(running().length).toBeGreaterThanOrEqual(1);
    await task.stop();
    const gone = Date.now() + 5_000;
    while (Date.now() < gone && running().length > 0) await Bun.sleep(50);
    expect(running()).toEqual([]);
    expect(t.db.query("SELECT 1 FROM meta WHERE key = ?").get(META_BACKFILL)).toBeNull(); // a stopped pass has no counts
    const n = count();
    await Bun.sleep(700);
    expect(count()).toBe(n); // nothing writes any more
  } finally {
    restore();
    t.cleanup();
  }
}, 60_000);

test.skipIf(!existsSync("/var/lib/dpkg/status") || !existsSync("/usr/bin/apt-config"))("reloading packages = off stops the child's pass; a child that fails is not redone here, one that cannot start is", async () => {
  ensureBinary();
  const t = tempDatabase("integrityd-pkgoff-");
  const restore = emptyApt(t.dir);
  try {
    const config = { ...defaultConfig("x"), database: t.path };
    const count = () => (t.db.query("SELECT count(*) AS n FROM pkg_versions").get() as { n: number }).n;
    const task = createPackagesTask({ db: t.db, config }, { start: 0, pace: 300, again: 1e9 }, childBackfill([BIN]))!;
    const until = Date.now() + 30_000;
    while (Date.now() < until && count() < 2) await Bun.sleep(50);
    expect(ourChildren(BACKFILL_CHILD_ARG).length).toBe(1);
    task.reload!({ ...config, packages: "off" });
    const gone = Date.now() + 5_000;
    while (Date.now() < gone && ourChildren(BACKFILL_CHILD_ARG).length > 0) await Bun.sleep(50);
    expect(ourChildren(BACKFILL_CHILD_ARG)).toEqual([]);
    await task.stop();
    // a child that fails: no pass here (the manifests stay as the child left them, no counts)
    const before = count();
    const failing = createPackagesTask({ db: t.db, config }, { start: 0, pace: 0, again: 1e9 }, async () => { throw new Error("it exited with 1: boom"); })!;
    await Bun.sleep(1500);
    await failing.stop();
    expect(count()).toBe(before);
    expect(t.db.query("SELECT 1 FROM meta WHERE key = ?").get(META_BACKFILL)).toBeNull();
    // a child that cannot start: the pass runs here, to the end
    const nochild = createPackagesTask({ db: t.db, config }, { start: 0, pace: 0, again: 1e9 }, async () => { throw new ChildStartError("no such file"); })!;
    const end = Date.now() + 50_000;
    while (Date.now() < end && !t.db.query("SELECT 1 FROM meta WHERE key = ?").get(META_BACKFILL)) await Bun.sleep(100);
    await nochild.stop();
    expect(packagesStatus(t.db).lastBackfill!.md5only).toBeGreaterThan(10);
  } finally {
    restore();
    t.cleanup();
  }
}, 90_000);

test.skipIf(!existsSync("/var/lib/dpkg/status"))("a backfill child whose daemon was killed outright ends with it, even in the middle of a 60 s pace", async () => {
  ensureBinary();
  const t = tempDatabase("integrityd-pkgorphan-");
  try {
    const dirs = { lists: join(t.dir, "none"), sourceList: join(t.dir, "none"), sourceParts: join(t.dir, "none"), trusted: join(t.dir, "none"), trustedParts: join(t.dir, "none"), archives: join(t.dir, "none"), dpkgAdmin: "/var/lib/dpkg", archs: ["amd64"] };
    writeFileSync(join(t.dir, "job.json"), JSON.stringify({ database: t.path, dirs, paceMs: 60_000 }));
    // a stand-in daemon: a shell that starts the child and is killed with SIGKILL
    const sh = Bun.spawn(["/bin/sh", "-c", `${BIN} ${BACKFILL_CHILD_ARG} < ${join(t.dir, "job.json")} > /dev/null & echo $!; wait`], { stdout: "pipe" });
    const reader = sh.stdout.getReader();
    const childPid = Number(new TextDecoder().decode((await reader.read()).value).trim());
    expect(childPid).toBeGreaterThan(1);
    const count = () => (t.db.query("SELECT count(*) AS n FROM pkg_versions").get() as { n: number }).n;
    const until = Date.now() + 20_000;
    while (Date.now() < until && count() < 1) await Bun.sleep(50);
    expect(count()).toBe(1); // its first package, then a 60 s pace: only the kernel's signal can end it now
    sh.kill("SIGKILL");
    const alive = () => { try { process.kill(childPid, 0); return true; } catch { return false; } };
    const gone = Date.now() + 5_000;
    while (Date.now() < gone && alive()) await Bun.sleep(50);
    expect(alive()).toBe(false);
  } finally {
    t.cleanup();
  }
}, 60_000);
