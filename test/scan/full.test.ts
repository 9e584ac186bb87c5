// --scan-once on real temp trees: names, types, attributes, deletions, excludes.
import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync, chownSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { openDatabase } from "../../src/db/db.ts";
import { makeEnv, reports, scanOnce, sha256, type Env } from "./helpers.ts";

let env: Env;
afterEach(() => env?.cleanup());

const raw = (s: string) => Buffer.from(s, "latin1");

describe("scan-once", () => {
  test("first pass: no New lines, one baseline summary; exit 0", async () => {
    env = makeEnv();
    writeFileSync(join(env.area, "a"), "aaa");
    mkdirSync(join(env.area, "d"));
    writeFileSync(join(env.area, "d", "b"), "bb");
    const r = await scanOnce(env.config);
    expect(r.code).toBe(0);
    expect(reports(r.out)).toHaveLength(1);
    expect(r.out).toMatch(/^Baseline: recorded 4 entries \(2 files, 5 bytes\) in \d+\.\ds\n$/);
    expect(r.err).toBe("");
    const again = await scanOnce(env.config);
    expect(again).toEqual({ code: 0, out: "", err: "" });
  });

  test("weird names are found, stored as raw bytes and reported escaped", async () => {
    env = makeEnv();
    writeFileSync(join(env.area, "plain"), "p");
    await scanOnce(env.config);
    // (\x01 and a directory holding odd bytes too: names cross to the worker threads as text)
    const names = ["bad\xffname", "new\nline", "with space", "glob*?[x", ".dotfile", "caf\xc3\xa9", "ctl\x01\x02"];
    for (const n of names) writeFileSync(Buffer.concat([raw(env.area + "/"), raw(n)]), n);
    mkdirSync(Buffer.concat([raw(env.area + "/"), raw("sub\x01dir")]));
    writeFileSync(Buffer.concat([raw(env.area + "/"), raw("sub\x01dir/f\xff\x01")]), "inner");
    const r = await scanOnce(env.config);
    expect(r.code).toBe(1);
    const heads = reports(r.out).map((x) => x.split("\n")[0]).sort();
    expect(heads).toEqual(
      [
        `New: ${env.area}/bad\\xffname`, `New: ${env.area}/new\\nline`, `New: ${env.area}/with space`,
        `New: ${env.area}/glob*?[x`, `New: ${env.area}/.dotfile`, `New: ${env.area}/café`, `New: ${env.area}/ctl\\x01\\x02`,
        `New: ${env.area}/sub\\x01dir`, `New: ${env.area}/sub\\x01dir/f\\xff\\x01`,
      ].sort(),
    );
    const db = openDatabase(env.config.database, { readonly: true });
    const stored = (db.query("SELECT path FROM entries").all() as { path: Uint8Array }[]).map((x) => Buffer.from(x.path).toString("latin1"));
    db.close();
    for (const n of names) expect(stored).toContain(`${env.area}/${n}`);
    // deletion of an invisible-to-UTF-8 name is reported too
    unlinkSync(Buffer.concat([raw(env.area + "/"), raw("bad\xffname")]));
    const d = await scanOnce(env.config);
    expect(d.code).toBe(2);
    expect(reports(d.out)).toEqual([`Deleted: ${env.area}/bad\\xffname`]);
  });

  test("a file appended to all through --scan-once: never a torn hash (the stored size and hash agree, or it is reported unverified)", async () => {
    env = makeEnv();
    for (let i = 0; i < 40; i++) writeFileSync(join(env.area, `still${i}`), `content ${i}\n`.repeat(1000));
    const busy = join(env.area, "busy");
    writeFileSync(busy, "");
    const writer = Bun.spawn(["sh", "-c", 'while :; do printf "x\\n" >> "$0"; done', busy], { stdout: "ignore", stderr: "ignore" });
    try {
      await Bun.sleep(50);
      const r = await scanOnce(env.config);
      expect(r.code).toBe(0);
      const db = openDatabase(env.config.database, { readonly: true });
      const row = db.query("SELECT size, hash, error FROM entries WHERE path = ?").get(Buffer.from(busy)) as { size: number; hash: string | null; error: string | null };
      const still = (db.query("SELECT count(*) AS n FROM entries WHERE hash IS NOT NULL").get() as { n: number }).n;
      db.close();
      expect(still).toBeGreaterThanOrEqual(40);
      if (row.hash === null) {
        expect(row.error).toMatch(/content not verified/);
        expect(r.out).toContain(`${busy}`);
      } else {
        expect(row.hash).toBe(sha256("x\n".repeat(row.size / 2)));
      }
    } finally {
      writer.kill(9);
      await writer.exited;
    }
  });

  test("a directory too big to visit in one go (4,200 entries): its children are queued one by one, changes still found", async () => {
    env = makeEnv();
    const big = join(env.area, "big");
    mkdirSync(big);
    for (let i = 0; i < 4200; i++) writeFileSync(join(big, `f${i}`), `${i}`);
    const first = await scanOnce(env.config);
    expect(first.code).toBe(0);
    expect(first.out).toContain("4202 entries");
    writeFileSync(join(big, "f17"), "changed");
    unlinkSync(join(big, "f4100"));
    writeFileSync(join(big, "new"), "n");
    const r = await scanOnce(env.config);
    expect(r.code).toBe(7);
    expect(reports(r.out).map((x) => x.split("\n")[0]).sort()).toEqual([`Changed: ${big}/f17`, `Deleted: ${big}/f4100`, `New: ${big}/new`]);
  });

  test("symlink to a file outside the area: not followed, target change reported", async () => {
    env = makeEnv();
    const outside = join(env.dir, "outside");
    writeFileSync(outside, "secret");
    symlinkSync(outside, join(env.area, "link"));
    await scanOnce(env.config);
    writeFileSync(outside, "changed content of the target");
    expect(await scanOnce(env.config)).toEqual({ code: 0, out: "", err: "" });
    unlinkSync(join(env.area, "link"));
    symlinkSync("/etc/shadow", join(env.area, "link"));
    const r = await scanOnce(env.config);
    expect(r.code).toBe(4);
    expect(r.out).toContain(`Changed: ${env.area}/link\n`);
    expect(r.out).toContain(`  target: ${outside} => /etc/shadow\n`);
    expect(r.out).not.toContain("hash");
  });

  test("FIFO, socket and device are recorded without opening (no hang)", async () => {
    env = makeEnv();
    const fifo = join(env.area, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const sockPath = join(env.area, "sock");
    const server = createServer();
    await new Promise<void>((res) => server.listen(sockPath, res));
    const dev = join(env.area, "null2");
    const haveDev = Bun.spawnSync(["mknod", dev, "c", "1", "3"]).exitCode === 0;
    if (!haveDev) console.log("note: mknod not permitted here; device node part skipped");
    await scanOnce(env.config);
    server.close();
    const db = openDatabase(env.config.database, { readonly: true });
    const types = Object.fromEntries(
      (db.query("SELECT path, type, hash FROM entries").all() as { path: Uint8Array; type: string; hash: string | null }[])
        .map((x) => [Buffer.from(x.path).toString(), [x.type, x.hash]]),
    );
    db.close();
    expect(types[fifo]).toEqual(["fifo", null]);
    expect(types[sockPath]).toEqual(["socket", null]);
    if (haveDev) {
      expect(types[dev]).toEqual(["chardev", null]);
      unlinkSync(dev);
      expect(Bun.spawnSync(["mknod", dev, "c", "1", "5"]).exitCode).toBe(0);
      const r = await scanOnce(env.config);
      expect(r.out).toContain("  rdev: 1:3 => 1:5");
    }
  });

  test("permission, owner and setuid changes of files and directories", async () => {
    env = makeEnv();
    const f = join(env.area, "tool");
    writeFileSync(f, "#!/bin/sh\n");
    chmodSync(f, 0o755);
    mkdirSync(join(env.area, "ssh"), 0o755);
    await scanOnce(env.config);
    chmodSync(f, 0o4755);
    chownSync(f, 1000, 1001);
    chmodSync(join(env.area, "ssh"), 0o777);
    chmodSync(f, 0o4755); // chown clears setuid
    const r = await scanOnce(env.config);
    expect(r.code).toBe(4);
    const blocks = reports(r.out);
    const tool = blocks.find((b) => b.startsWith(`Changed: ${f}\n`))!;
    expect(tool).toContain("  mode: 0755 => 4755");
    expect(tool).toContain("  uid: 0 => 1000");
    expect(tool).toContain("  gid: 0 => 1001");
    expect(tool).not.toContain("hash:");
    expect(blocks).toContain(`Changed: ${env.area}/ssh\n  mode: 0755 => 0777`);
  });

  test("content change with mtime restored is still found by the hash", async () => {
    env = makeEnv();
    const f = join(env.area, "passwd");
    writeFileSync(f, "root:x:0:0\n");
    const ref = join(env.dir, "ref");
    writeFileSync(ref, "");
    expect(Bun.spawnSync(["touch", "-r", f, ref]).exitCode).toBe(0); // keep the times, to the nanosecond
    const before = statSync(f, { bigint: true }).mtimeNs;
    await scanOnce(env.config);
    writeFileSync(f, "root:x:0:1\n"); // same size
    expect(Bun.spawnSync(["touch", "-r", ref, f]).exitCode).toBe(0);
    expect(statSync(f, { bigint: true }).mtimeNs).toBe(before);
    const r = await scanOnce(env.config);
    expect(r.code).toBe(4);
    expect(r.out).toContain(`  hash: ${sha256("root:x:0:0\n")} => ${sha256("root:x:0:1\n")}`);
    expect(r.out).not.toContain("mtime:");
    expect(r.out).not.toContain("size:");
  });

  test("a deleted directory tree is reported once, with the count", async () => {
    env = makeEnv();
    const top = join(env.area, "tree");
    mkdirSync(join(top, "a", "b"), { recursive: true });
    for (const p of ["x", "a/y", "a/b/z", "a/b/w"]) writeFileSync(join(top, p), p);
    writeFileSync(join(env.area, "keep"), "k");
    await scanOnce(env.config);
    rmSync(top, { recursive: true });
    const r = await scanOnce(env.config);
    expect(r.code).toBe(2);
    expect(reports(r.out)).toEqual([`Deleted: ${top} (dir with 6 entries below it)`]);
    expect(await scanOnce(env.config)).toEqual({ code: 0, out: "", err: "" });
    const db = openDatabase(env.config.database, { readonly: true });
    expect((db.query("SELECT count(*) AS n FROM history WHERE kind = 'deleted'").get() as { n: number }).n).toBe(1);
    db.close();
  });

  test("a directory replaced by a file: one Changed with what went below it", async () => {
    env = makeEnv();
    const d = join(env.area, "d");
    mkdirSync(d);
    writeFileSync(join(d, "x"), "x");
    await scanOnce(env.config);
    rmSync(d, { recursive: true });
    writeFileSync(d, "now a file");
    const r = await scanOnce(env.config);
    expect(reports(r.out)).toHaveLength(1);
    expect(r.out).toContain(`Changed: ${d}\n  type: dir => file`);
    expect(r.out).toContain("1 entry below it went with it");
  });

  test("exclude: prefix and glob; entries that become excluded are dropped silently", async () => {
    env = makeEnv({ excludes: [] });
    mkdirSync(join(env.area, "cache", "deep"), { recursive: true });
    writeFileSync(join(env.area, "cache", "deep", "f"), "1");
    writeFileSync(join(env.area, "x.tmp"), "1");
    writeFileSync(join(env.area, "sub.tmp.keep"), "1");
    writeFileSync(join(env.area, "real"), "1");
    await scanOnce(env.config);
    const config = { ...env.config, excludes: [join(env.area, "cache"), `${env.area}/**/*.tmp`] };
    writeFileSync(join(env.area, "cache", "deep", "f"), "changed");
    writeFileSync(join(env.area, "x.tmp"), "changed");
    writeFileSync(join(env.area, "new.tmp"), "new");
    writeFileSync(join(env.area, "cache", "newer"), "new");
    expect(await scanOnce(config)).toEqual({ code: 0, out: "", err: "" });
    const db = openDatabase(env.config.database, { readonly: true });
    const paths = (db.query("SELECT path FROM entries").all() as { path: Uint8Array }[]).map((x) => Buffer.from(x.path).toString()).sort();
    db.close();
    expect(paths).toEqual([env.area, join(env.area, "real"), join(env.area, "sub.tmp.keep")]);
    // a file that does not match is still watched
    writeFileSync(join(env.area, "sub.tmp.keep"), "2");
    expect((await scanOnce(config)).code).toBe(4);
  });

  test("the database itself inside an area is not watched", async () => {
    env = makeEnv();
    env.config.areas = [env.dir];
    await scanOnce(env.config);
    writeFileSync(join(env.area, "f"), "x");
    const r = await scanOnce(env.config);
    expect(reports(r.out).map((x) => x.split("\n")[0])).toEqual([`New: ${join(env.area, "f")}`]);
  });

  test("a file replaced by rename between passes: Changed with ino and hash", async () => {
    env = makeEnv();
    const f = join(env.area, "bin");
    writeFileSync(f, "old");
    await scanOnce(env.config);
    writeFileSync(join(env.dir, "tmp"), "new");
    renameSync(join(env.dir, "tmp"), f);
    const r = await scanOnce(env.config);
    expect(r.out).toContain("  ino: ");
    expect(r.out).toContain(`  hash: ${sha256("old")} => ${sha256("new")}`);
  });

  test("progress bar only on a TTY; missing area warned, not fatal; no area is a config error", async () => {
    env = makeEnv();
    for (let i = 0; i < 5; i++) writeFileSync(join(env.area, `f${i}`), "x");
    const quiet = await scanOnce(env.config, false);
    expect(quiet.err).toBe("");
    const tty = await scanOnce(env.config, true);
    expect(tty.code).toBe(0);
    expect(tty.err).toMatch(/^\r\x1b\[K\[[#-]{24}\] \d+\/\d+ entries, .*, \d+\/s, ETA .*\r\x1b\[K$/s);
    const none = { ...env.config, areas: [] };
    await expect(scanOnce(none)).rejects.toMatchObject({ code: 78 });
    const missing = { ...env.config, areas: [join(env.dir, "nope")] };
    expect((await scanOnce(missing)).code).toBe(0);
    const nodb = { ...env.config, database: join(env.dir, "absent.sqlite") };
    await expect(scanOnce(nodb)).rejects.toMatchObject({ code: 78 });
  });
});
