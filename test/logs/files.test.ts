// File access for the log follower: opening never follows a link, never blocks
// and gives regular files only; lookAt describes a log path's link without
// following an untrusted one; rotated siblings are found by inode, never
// through a link.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, fstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findByInode, lookAt, openRead, safeClose } from "../../src/logs/files.ts";

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});
const tmp = () => (dir = mkdtempSync(join(tmpdir(), "integrityd-logfiles-")));
const self = process.getuid?.() ?? 0;
const none = () => false;

describe("openRead", () => {
  test("a regular file opens; a symlink to one, a directory and a FIFO (without blocking) do not", () => {
    const d = tmp();
    const f = join(d, "f");
    writeFileSync(f, "x\n");
    const fd = openRead(f);
    expect(fd).not.toBe(null);
    expect(fstatSync(fd!).isFile()).toBe(true);
    safeClose(fd);
    symlinkSync(f, join(d, "link"));
    expect(openRead(join(d, "link"))).toBe(null);
    mkdirSync(join(d, "sub"));
    expect(openRead(join(d, "sub"))).toBe(null);
    expect(Bun.spawnSync(["mkfifo", join(d, "fifo")]).exitCode).toBe(0);
    expect(openRead(join(d, "fifo"))).toBe(null); // O_NONBLOCK: no writer needed to return
    expect(openRead(join(d, "missing"))).toBe(null);
  });
});

describe("lookAt", () => {
  test("nothing, a file, a directory: described as they are", () => {
    const d = tmp();
    expect(lookAt(join(d, "nothing"), none, self)).toEqual({ kind: "none" });
    writeFileSync(join(d, "f"), "abc");
    const f = lookAt(join(d, "f"), none, self);
    expect(f.kind === "file" && f.open === join(d, "f") && f.st.isFile && f.st.size === 3).toBe(true);
    mkdirSync(join(d, "sub"));
    const s = lookAt(join(d, "sub"), none, self);
    expect(s.kind === "file" && !s.st.isFile).toBe(true);
  });

  test("a trusted link: its target is the file to open; an untrusted one is refused with its target; a named target makes it trusted", () => {
    const d = tmp();
    const target = join(d, "real.log");
    writeFileSync(target, "abc");
    symlinkSync(target, join(d, "link"));
    const ok = lookAt(join(d, "link"), none, self); // our own link in our own 0700 directory
    expect(ok.kind === "file" && ok.open === target && ok.st.ino === statSync(target).ino).toBe(true);
    chmodSync(d, 0o777);
    expect(lookAt(join(d, "link"), none, self)).toEqual({ kind: "refused", target });
    const named = lookAt(join(d, "link"), (p) => p === target, self);
    expect(named.kind === "file" && named.open === target).toBe(true);
    chmodSync(d, 0o700);
  });

  test("a dangling link: nothing when trusted, refused (with the link's text) when not", () => {
    const d = tmp();
    symlinkSync(join(d, "later"), join(d, "link"));
    expect(lookAt(join(d, "link"), none, self)).toEqual({ kind: "none" });
    chmodSync(d, 0o770);
    expect(lookAt(join(d, "link"), none, self)).toEqual({ kind: "refused", target: join(d, "later") });
    chmodSync(d, 0o700);
  });
});

describe("findByInode", () => {
  test("a rotated sibling with the recorded inode is found; a link to it is not", () => {
    const d = tmp();
    const log = join(d, "app.log");
    const rotated = join(d, "elsewhere.log");
    writeFileSync(rotated, "first line\n");
    const st = statSync(rotated);
    const stored = { dev: st.dev, ino: st.ino, offset: 0, fingerprint: Buffer.from("first"), tailprint: null };
    symlinkSync(rotated, `${log}.1`);
    expect(findByInode(log, stored)).toBe(null);
    require("node:fs").renameSync(rotated, `${log}.2`);
    const fd = findByInode(log, stored);
    expect(fd).not.toBe(null);
    safeClose(fd);
  });
});
