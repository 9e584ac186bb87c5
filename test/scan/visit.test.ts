// The visit of a path against a local user who changes the tree under the
// scanner (real users, see test/support/users.ts; skipped without root): a
// directory swapped for a symlink between its listing and the visit of its
// children is never walked through, in the trickle and at full speed; a tree
// deeper than PATH_MAX is recorded and checked like any other; a FIFO or a
// device is recorded, never opened.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, closeSync, constants, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../src/db/db.ts";
import { at } from "../../src/scan/dirs.ts";
import { pathFrom } from "../../src/scan/paths.ts";
import { HashPool } from "../../src/scan/pool.ts";
import { Scanner, type ScannerOptions } from "../../src/scan/scanner.ts";
import { throwawayUser, type User } from "../support/users.ts";
import { makeEnv, pacedScanner, reports, scanOnce, sha256, type Env } from "./helpers.ts";

let env: Env | null = null;
let user: User | null = null;
afterEach(() => {
  env?.cleanup();
  env = null;
  user?.remove();
  user = null;
});

const str = (p: Uint8Array) => Buffer.from(p).toString();

/** A full-speed pass (as --scan-once runs it: workers, the main thread helping) with test hooks. */
async function fullPass(e: Env, hooks: ScannerOptions["hooks"] = {}) {
  const db = openDatabase(e.config.database);
  const pool = new HashPool(2, true);
  const events: { kind: string; text: string }[] = [];
  try {
    const scanner = new Scanner({ db, config: e.config, unlimited: true, walker: pool, hooks, onEvent: (ev) => events.push(ev) });
    scanner.sweepAll();
    scanner.freshCycle();
    expect(await scanner.runCycle()).toBe(true);
  } finally {
    pool.close();
    db.close();
  }
  return events;
}

function entries(e: Env): { path: string; type: string; hash: string | null }[] {
  const db = openDatabase(e.config.database, { readonly: true });
  const rows = db.query("SELECT path, type, hash FROM entries").all() as { path: Uint8Array; type: string; hash: string | null }[];
  db.close();
  return rows.map((r) => ({ path: str(r.path), type: r.type, hash: r.hash }));
}

const SECRET = "root's secret\n";
const SECRET_INNER = "another root secret\n";

/**
 * An area holding a user's directory `home` with `sub/secret` and
 * `sub/inner/f`, and beside the area a root-only directory with the same
 * names holding secrets. swap() is the user replacing `sub` by a symlink to it.
 */
function userTree(why: string) {
  user = throwawayUser(why);
  if (!user) return null;
  env = makeEnv();
  chmodSync(env.dir, 0o755);
  chmodSync(env.area, 0o755);
  const home = join(env.area, "home");
  mkdirSync(join(home, "sub", "inner"), { recursive: true });
  writeFileSync(join(home, "sub", "secret"), "mine\n");
  writeFileSync(join(home, "sub", "inner", "f"), "mine too\n");
  for (const p of ["", "sub", "sub/inner", "sub/secret", "sub/inner/f"]) chownSync(join(home, p), user.uid, user.gid);
  const priv = join(env.dir, "private");
  mkdirSync(join(priv, "inner"), { recursive: true, mode: 0o700 });
  chmodSync(priv, 0o700);
  writeFileSync(join(priv, "secret"), SECRET, { mode: 0o600 });
  writeFileSync(join(priv, "inner", "f"), SECRET_INNER, { mode: 0o600 });
  const sub = join(home, "sub");
  const u = user;
  let swapped = false;
  return {
    sub,
    swapped: () => swapped,
    swap() {
      if (swapped) return;
      swapped = true;
      const r = u.run(["sh", "-c", 'mv "$0" "$0.old" && ln -s "$1" "$0"', sub, priv]);
      expect(r).toMatchObject({ code: 0, stderr: "" });
    },
  };
}

/** Nothing from the root-only directory recorded: no hash of its files, no entry of sub's left below the symlink. */
function expectNothingOfTheTarget(e: Env, sub: string) {
  const all = entries(e);
  for (const row of all) expect([sha256(SECRET), sha256(SECRET_INNER)]).not.toContain(row.hash);
  expect(all.find((r) => r.path === sub)?.type).toBe("symlink");
  expect(all.filter((r) => r.path.startsWith(`${sub}/`))).toEqual([]);
}

describe("a directory swapped for a symlink between its listing and its children's visit", () => {
  test("the trickle: the children are not reached through the symlink; the next cycle reports dir => symlink", async () => {
    const t = userTree("symlink swap, trickle");
    if (!t || !env) return;
    const s = pacedScanner(env, { hooks: { listed: (dir) => { if (str(dir) === t.sub) t.swap(); } } });
    expect(await s.scanner.runCycle()).toBe(true);
    expect(t.swapped()).toBe(true);
    // the baseline recorded sub as the directory lstat saw, nothing below it through the symlink
    for (const row of entries(env)) expect([sha256(SECRET), sha256(SECRET_INNER)]).not.toContain(row.hash);
    expect(entries(env).filter((r) => r.path.startsWith(`${t.sub}/`))).toEqual([]);
    await s.scanner.runCycle();
    s.close();
    const changed = s.events.filter((e) => e.kind === "changed").map((e) => e.text);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toStartWith(`Changed: ${t.sub}\n`);
    expect(changed[0]).toContain("  type: dir => symlink");
    for (const e of s.events) expect(e.text).not.toContain(sha256(SECRET));
    expectNothingOfTheTarget(env, t.sub);
  });

  test("the trickle, after a baseline: a swap before a child's visit makes the child missing, never read through the link", async () => {
    const t = userTree("symlink swap before a child's visit, trickle");
    if (!t || !env) return;
    await scanOnce(env.config);
    const s = pacedScanner(env, { hooks: { visit: (p) => { if (str(p).startsWith(`${t.sub}/`)) t.swap(); } } });
    // (the order is random: run until the swap has happened and a cycle has passed after it)
    for (let i = 0; i < 3; i++) await s.scanner.runCycle();
    s.close();
    expect(t.swapped()).toBe(true);
    expect(s.events.some((e) => e.kind === "changed" && e.text.startsWith(`Changed: ${t.sub}\n`) && e.text.includes("  type: dir => symlink"))).toBe(true);
    for (const e of s.events) expect(e.text).not.toContain(sha256(SECRET));
    expectNothingOfTheTarget(env, t.sub);
  });

  test("full speed: the children are visited in the directory that was listed (by its descriptor); the next pass reports dir => symlink", async () => {
    const t = userTree("symlink swap, full speed");
    if (!t || !env) return;
    const first = await fullPass(env, { listed: (dir) => { if (str(dir) === t.sub) t.swap(); } });
    expect(t.swapped()).toBe(true);
    expect(first.map((e) => e.kind)).toEqual(["baseline"]);
    for (const row of entries(env)) expect([sha256(SECRET), sha256(SECRET_INNER)]).not.toContain(row.hash);
    // what was recorded below sub is the user's own (the directory listed, now sub.old)
    expect(entries(env).find((r) => r.path === join(t.sub, "secret"))?.hash).toBe(sha256("mine\n"));
    const second = await fullPass(env);
    const changed = second.filter((e) => e.kind === "changed").map((e) => e.text);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toStartWith(`Changed: ${t.sub}\n`);
    expect(changed[0]).toContain("  type: dir => symlink");
    expectNothingOfTheTarget(env, t.sub);
  });

  test("full speed: a swap before the visit of a directory learned earlier (sub/inner) is not walked through either", async () => {
    const t = userTree("symlink swap before a subdirectory's visit, full speed");
    if (!t || !env) return;
    await fullPass(env, { visit: (p) => { if (str(p) === join(t.sub, "inner")) t.swap(); } });
    expect(t.swapped()).toBe(true);
    for (const row of entries(env)) expect([sha256(SECRET), sha256(SECRET_INNER)]).not.toContain(row.hash);
    await fullPass(env);
    expectNothingOfTheTarget(env, t.sub);
  });
});

describe("a tree deeper than PATH_MAX", () => {
  const LEVELS = 40;
  const NAME = "d".repeat(200);

  /** 40 levels of 200-byte names (8 KiB of path) with a file at the bottom; write(data) rewrites it. */
  function deepTree(e: Env) {
    const write = (data: string) => {
      let fd = openSync(e.area, constants.O_RDONLY | constants.O_DIRECTORY);
      for (let i = 0; i < LEVELS; i++) {
        const p = at(fd, pathFrom(NAME));
        try {
          mkdirSync(p);
        } catch {
          // already there
        }
        const next = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY);
        closeSync(fd);
        fd = next;
      }
      writeFileSync(at(fd, pathFrom("bottom")), data);
      closeSync(fd);
    };
    write("first");
    const bottom = `${e.area}/${Array(LEVELS).fill(NAME).join("/")}/bottom`;
    expect(bottom.length).toBeGreaterThan(8000);
    return { write, bottom };
  }

  test("--scan-once records every level, and finds a change at the bottom", async () => {
    env = makeEnv();
    const t = deepTree(env);
    const first = await scanOnce(env.config);
    expect(first).toMatchObject({ code: 0, err: "" });
    expect(first.out).toStartWith(`Baseline: recorded ${LEVELS + 2} entries (1 files, 5 bytes)`);
    const rows = entries(env);
    expect(rows.filter((r) => r.type === "dir")).toHaveLength(LEVELS + 1);
    expect(rows.find((r) => r.path === t.bottom)?.hash).toBe(sha256("first"));
    t.write("second");
    const r = await scanOnce(env.config);
    expect(r.code).toBe(4);
    expect(reports(r.out).map((x) => x.split("\n")[0])).toEqual([`Changed: ${t.bottom}`]);
    expect(r.out).toContain(`  hash: ${sha256("first")} => ${sha256("second")}`);
  });

  test("the trickle records every level, and finds a change at the bottom", async () => {
    env = makeEnv();
    const t = deepTree(env);
    const s = pacedScanner(env);
    await s.scanner.runCycle();
    expect(s.events.map((e) => e.text.split(" in ")[0])).toEqual([`Baseline: recorded ${LEVELS + 2} entries (1 files, 5 bytes)`]);
    t.write("second");
    await s.scanner.runCycle();
    s.close();
    const changed = s.events.filter((e) => e.kind === "changed");
    expect(changed.map((e) => e.text.split("\n")[0])).toEqual([`Changed: ${t.bottom}`]);
    expect(s.events.filter((e) => e.kind === "error")).toEqual([]);
  });
});

describe("special files planted by a user", () => {
  test("a FIFO (and a device) in a user's directory: recorded with no hash, never opened, in both modes", async () => {
    user = throwawayUser("FIFO planted by a user");
    if (!user) return;
    env = makeEnv();
    chmodSync(env.dir, 0o755);
    chmodSync(env.area, 0o755);
    const home = join(env.area, "home");
    mkdirSync(home);
    chownSync(home, user.uid, user.gid);
    const fifo = join(home, "pipe");
    expect(user.run(["mkfifo", fifo]).code).toBe(0);
    const dev = join(home, "zero");
    const haveDev = Bun.spawnSync(["mknod", dev, "c", "1", "5"]).exitCode === 0;
    // a FIFO opened for reading with nobody writing would hang a blocking open: both passes end
    const s = pacedScanner(env);
    expect(await s.scanner.runCycle()).toBe(true);
    s.close();
    const full = await scanOnce(env.config);
    expect(full.code).toBe(0);
    const rows = entries(env);
    expect(rows.find((r) => r.path === fifo)).toMatchObject({ type: "fifo", hash: null });
    if (haveDev) expect(rows.find((r) => r.path === dev)).toMatchObject({ type: "chardev", hash: null });
  });
});
