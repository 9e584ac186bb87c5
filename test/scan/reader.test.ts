// The I/O edge on its own: paced async hashing and the blocking hasher agree,
// both refuse to hash anything but the regular file that lstat saw, and the
// torn-read checks they share decide as documented.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathFrom } from "../../src/scan/paths.ts";
import { HashPool } from "../../src/scan/pool.ts";
import { tornAfter, tornBefore } from "../../src/scan/digest.ts";
import { hashFile, hashFileAt, hashSync, statEntry, toVisited, visitSync } from "../../src/scan/reader.ts";
import { sparseDigest } from "../../src/scan/sparse.ts";
import { sha256, viaParent } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-reader-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const full = { algo: "sha256", small: true, chunkSize: () => 1 << 20, pace: async () => {}, stopped: () => false };

describe("reader", () => {
  test("paced hash, worker visit and blocking hash agree", async () => {
    const p = join(dir, "data");
    const data = Buffer.alloc(3 * (1 << 20) + 17, 7);
    writeFileSync(p, data);
    const st = statEntry(pathFrom(p));
    if (!st.ok) throw new Error(st.message);
    const a = await hashFile(pathFrom(p), st.attrs, st.dev, { ...full, small: false, chunkSize: () => 65536 });
    const pool = new HashPool(2);
    const dfd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    const [b] = await pool.visitMany(dfd, [pathFrom("data")], "sha256");
    pool.close();
    const c = hashSync(dfd, pathFrom("data"), { ...st.attrs, dev: st.dev }, "sha256", Buffer.alloc(4096));
    const d = await hashFileAt(dfd, pathFrom("data"), st.attrs, st.dev, { ...full, small: false, chunkSize: () => 65536 });
    closeSync(dfd);
    expect(a).toMatchObject({ kind: "ok", hash: sha256(data), bytes: data.length });
    expect(b.hash).toMatchObject({ kind: "ok", hash: sha256(data), bytes: data.length });
    expect(b.stat).toEqual(st);
    expect(c).toMatchObject({ kind: "ok", hash: sha256(data) });
    expect(d).toEqual(a);
  });

  test("a FIFO or symlink swapped in after lstat is not read (no hang), a vanished file is reported as such", async () => {
    const p = join(dir, "swap");
    writeFileSync(p, "x");
    const st = statEntry(pathFrom(p));
    if (!st.ok) throw new Error(st.message);
    const seen = { ...st.attrs, dev: st.dev };
    const core = () => viaParent(p, (fd, n) => hashSync(fd, n, seen, "sha256", Buffer.alloc(4096)));
    unlinkSync(p);
    expect(core().kind).toBe("vanished");
    expect((await hashFile(pathFrom(p), st.attrs, st.dev, full)).kind).toBe("vanished");
    expect(Bun.spawnSync(["mkfifo", p]).exitCode).toBe(0);
    expect(core()).toMatchObject({ kind: "torn" });
    expect(await hashFile(pathFrom(p), st.attrs, st.dev, full)).toMatchObject({ kind: "torn" });
    // a symlink swapped in is not followed
    unlinkSync(p);
    fs.symlinkSync("/etc/passwd", p);
    expect(core().kind).toBe("vanished");
    expect((await hashFile(pathFrom(p), st.attrs, st.dev, full)).kind).toBe("vanished");
    // another regular file in its place (the file system may even reuse the inode number): never hashed as the one lstat saw
    unlinkSync(p);
    writeFileSync(p, "x");
    expect(core()).toMatchObject({ kind: "torn", reason: expect.stringMatching(/^(replaced|changed) before it was opened$/) });
  });

  test("lstat by path: errors are values, not exceptions", () => {
    expect(statEntry(pathFrom(join(dir, "nope")))).toMatchObject({ ok: false, code: "ENOENT" });
  });

  test("torn-read checks: the opened file must be the one lstat saw, unchanged; fstat after the read must agree and the whole size be read", () => {
    const p = join(dir, "checks");
    writeFileSync(p, "12345");
    const st = fs.statSync(p, { bigint: true });
    const seen = { ino: st.ino, dev: st.dev, size: st.size, mtime: st.mtimeNs, ctime: st.ctimeNs };
    expect(tornBefore(st, seen)).toBeNull();
    expect(tornBefore(st, { ...seen, ino: seen.ino + 1n })).toBe("replaced before it was opened");
    expect(tornBefore(st, { ...seen, dev: seen.dev + 1n })).toBe("replaced before it was opened");
    expect(tornBefore(st, { ...seen, size: 4n })).toBe("changed before it was opened");
    expect(tornBefore(st, { ...seen, mtime: seen.mtime - 1n })).toBe("changed before it was opened");
    expect(tornBefore(st, { ...seen, ctime: seen.ctime + 1n })).toBe("changed before it was opened");
    expect(tornBefore(fs.statSync(dir, { bigint: true }), seen)).toBe("replaced before it was opened"); // not a regular file
    expect(tornAfter(st, st, 5)).toBeNull();
    expect(tornAfter(st, st, 4)).toBe("changed while being read");
    const later = { ...st, mtimeNs: st.mtimeNs + 1n } as fs.BigIntStats;
    expect(tornAfter(st, later, 5)).toBe("changed while being read");
  });

  test("a blocking visit: lstat, link target, hash; problems as raw values, described on the way in", () => {
    const f = join(dir, "visit");
    writeFileSync(f, "abc");
    const buf = Buffer.alloc(4096);
    const v = toVisited(viaParent(f, (fd, n) => visitSync(fd, n, "sha256", buf)));
    expect(v.stat).toEqual(statEntry(pathFrom(f)));
    expect(v.hash).toMatchObject({ kind: "ok", hash: sha256("abc"), bytes: 3 });
    const gone = viaParent(join(dir, "nope"), (fd, n) => visitSync(fd, n, "sha256", buf));
    expect(gone).toMatchObject({ ok: false, code: "ENOENT" });
    expect(toVisited(gone).stat).toEqual({ ok: false, code: "ENOENT", message: "no such file or directory (ENOENT)" });
  });

  test("a sparse file is hashed from its data extents only: holes never read, paced and blocking agree, a byte in a hole changes it", async () => {
    const p = join(dir, "sparse");
    const TiB = 2 ** 40;
    const chunk = (c: number) => Buffer.alloc(65536, c);
    // three 64 KiB extents at block-aligned offsets far apart, in a 1 TiB file
    const layout = [{ offset: 1 << 20, data: chunk(1) }, { offset: 2 ** 39, data: chunk(2) }, { offset: TiB - 65536, data: chunk(3) }];
    const fd = openSync(p, "w");
    fs.ftruncateSync(fd, TiB);
    for (const e of layout) fs.writeSync(fd, e.data, 0, e.data.length, e.offset);
    fs.fsyncSync(fd);
    closeSync(fd);
    expect(Number(fs.statSync(p, { bigint: true }).blocks) * 512).toBeLessThan(1 << 20);
    const st = statEntry(pathFrom(p));
    if (!st.ok) throw new Error(st.message);
    let paced = 0;
    const a = await hashFile(pathFrom(p), st.attrs, st.dev, { ...full, small: false, chunkSize: () => 16384, pace: async (n) => void (paced += n) });
    const b = viaParent(p, (dfd, n) => hashSync(dfd, n, { ...st.attrs, dev: st.dev }, "sha256", Buffer.alloc(1 << 20)));
    const want = sparseDigest("sha256", layout, TiB);
    expect(a).toMatchObject({ kind: "ok", hash: want, bytes: 3 * 65536 });
    expect(paced).toBe(3 * 65536); // the byte pacing sees the data only
    expect(b).toMatchObject({ kind: "ok", hash: want, bytes: 3 * 65536 });

    // one byte written into a hole: a new extent, a new digest
    const w = openSync(p, "r+");
    fs.writeSync(w, Buffer.from("x"), 0, 1, 2 ** 38);
    closeSync(w);
    const st2 = statEntry(pathFrom(p));
    if (!st2.ok) throw new Error(st2.message);
    const c = await hashFile(pathFrom(p), st2.attrs, st2.dev, { ...full, small: false });
    expect(c.kind).toBe("ok");
    if (c.kind !== "ok") return;
    expect(c.hash).toStartWith("sparse-sha256:");
    expect(c.hash).not.toBe(want);
    expect(c.bytes).toBeGreaterThan(3 * 65536); // the new block, and no more than a few blocks of it
    expect(c.bytes).toBeLessThan(3 * 65536 + (1 << 20));
    unlinkSync(p);
  });
});
