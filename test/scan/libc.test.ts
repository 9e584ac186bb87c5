// openat/fstatat through bun:ffi: the same fields as node:fs's lstat for every
// type of entry, and errors as node:fs's codes.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nativeAt } from "../../src/scan/libc.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-libc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIELDS = ["dev", "ino", "nlink", "mode", "uid", "gid", "rdev", "size", "mtimeNs", "ctimeNs"] as const;

describe("libc", () => {
  test("available here (Linux, glibc, a known struct stat)", () => {
    expect(nativeAt()).not.toBeNull();
  });

  test("lstat: every kept field equal to node:fs's, for a file, a directory, a symlink, a FIFO and a device", () => {
    const n = nativeAt()!;
    writeFileSync(join(dir, "f"), "12345");
    mkdirSync(join(dir, "d"));
    symlinkSync("/nowhere/at/all", join(dir, "l"));
    expect(Bun.spawnSync(["mkfifo", join(dir, "p")]).exitCode).toBe(0);
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    const dev = openSync("/dev", constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      for (const [dfd, where, name] of [[fd, dir, "f"], [fd, dir, "d"], [fd, dir, "l"], [fd, dir, "p"], [dev, "/dev", "null"]] as const) {
        const mine = n.lstat(dfd, Buffer.from(name));
        const theirs = lstatSync(join(where, name), { bigint: true });
        for (const k of FIELDS) expect([name, k, mine[k]]).toEqual([name, k, theirs[k]]);
      }
    } finally {
      closeSync(fd);
      closeSync(dev);
    }
  });

  test("open relative to the directory; errors carry node:fs's codes; O_NOFOLLOW refuses a symlink", () => {
    const n = nativeAt()!;
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const f = n.open(fd, Buffer.from("f"), constants.O_RDONLY);
      expect(fstatSync(f, { bigint: true }).ino).toBe(lstatSync(join(dir, "f"), { bigint: true }).ino);
      closeSync(f);
      expect(() => n.lstat(fd, Buffer.from("nope"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
      expect(() => n.lstat(fd, Buffer.from("f/x"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
      expect(() => n.open(fd, Buffer.from("l"), constants.O_RDONLY | constants.O_NOFOLLOW)).toThrow(expect.objectContaining({ code: "ELOOP" }));
      // a name longer than the first buffer
      expect(() => n.lstat(fd, Buffer.alloc(300, 0x61))).toThrow(expect.objectContaining({ code: "ENAMETOOLONG" }));
    } finally {
      closeSync(fd);
    }
  });
});
