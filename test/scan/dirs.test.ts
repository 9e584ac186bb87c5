// Directories by descriptor: names and components, the chain from an area
// down (a symlinked or non-directory component refused, never followed), and
// the bound on descriptors kept open.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { closeSync, constants, fstatSync, mkdirSync, openSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { componentsBelow, isName, listDir, listFd, openAndList, OpenDirs, openSeenDir, REPLACED } from "../../src/scan/dirs.ts";
import { pathFrom } from "../../src/scan/paths.ts";
import { statAt, statEntry } from "../../src/scan/reader.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-dirs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/**
 * Descriptors this test's code holds: those open on its temp tree or on "/".
 * (All of the process's would count whatever else the test runner closes or
 * opens meanwhile, e.g. a finalised file handle of an earlier test file.)
 */
const openFds = () =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      const t = fs.readlinkSync(`/proc/self/fd/${fd}`);
      return t === "/" || t === dir || t.startsWith(`${dir}/`);
    } catch {
      return false;
    }
  }).length;

describe("names and components", () => {
  test("one component: not empty, no slash, not . or ..", () => {
    for (const ok of ["a", "...", ".x", "a\xff"]) expect(isName(Buffer.from(ok, "latin1"))).toBe(true);
    for (const bad of ["", ".", "..", "a/b", "/"]) expect(isName(Buffer.from(bad))).toBe(false);
  });

  test("the components below a root", () => {
    const c = (p: string, r: string) => componentsBelow(pathFrom(p), pathFrom(r)).map((x) => Buffer.from(x).toString());
    expect(c("/a/b/c", "/a")).toEqual(["b", "c"]);
    expect(c("/a/b", "/")).toEqual(["a", "b"]);
    expect(c("/a", "/a")).toEqual([]);
  });
});

describe("OpenDirs", () => {
  test("a path's place: its parent opened from the area down, the entry by name; a symlinked component is refused", () => {
    const area = join(dir, "area");
    mkdirSync(join(area, "a", "b"), { recursive: true });
    writeFileSync(join(area, "a", "b", "f"), "f");
    symlinkSync(join(area, "a"), join(area, "link"));
    writeFileSync(join(area, "plain"), "");
    const dirs = new OpenDirs(0);
    const before = openFds();
    const p = dirs.placeOf(pathFrom(join(area, "a", "b", "f")), pathFrom(area));
    if (!p.ok) throw new Error(p.message);
    expect(fstatSync(p.fd).ino).toBe(statSync(join(area, "a", "b")).ino);
    expect(p.name.toString()).toBe("f");
    expect(statAt(p.fd, p.name)).toMatchObject({ ok: true, attrs: { type: "file" } });
    // keep 0: only the parent is open while in use, nothing after
    expect(openFds()).toBe(before + 1);
    p.release();
    expect(openFds()).toBe(before);
    expect(dirs.placeOf(pathFrom(join(area, "link", "b", "f")), pathFrom(area))).toMatchObject({ ok: false, code: "ENOTDIR" });
    expect(dirs.placeOf(pathFrom(join(area, "plain", "x")), pathFrom(area))).toMatchObject({ ok: false, code: "ENOTDIR" });
    expect(dirs.placeOf(pathFrom(join(area, "nope", "x")), pathFrom(area))).toMatchObject({ ok: false, code: "ENOENT" });
    expect(openFds()).toBe(before);
    // the area itself: its parent by path, the area by name
    const top = dirs.placeOf(pathFrom(area), pathFrom(area));
    if (!top.ok) throw new Error(top.message);
    expect(top.name.toString()).toBe("area");
    top.release();
    const root = dirs.placeOf(pathFrom("/"), pathFrom("/"));
    if (!root.ok) throw new Error(root.message);
    expect(statAt(root.fd, root.name)).toMatchObject({ ok: true, attrs: { type: "dir", ino: statSync("/", { bigint: true }).ino } });
    root.release();
    expect(openFds()).toBe(before);
  });

  test("a deep chain keeps at most `keep` directories open, never one in use; closeAll closes them all", () => {
    const area = join(dir, "deep");
    let p = area;
    for (let i = 0; i < 100; i++) p = join(p, `l${i}`);
    mkdirSync(p, { recursive: true });
    const before = openFds();
    const dirs = new OpenDirs(8);
    const held = dirs.placeOf(pathFrom(join(p, "x")), pathFrom(area));
    if (!held.ok) throw new Error(held.message);
    expect(dirs.size).toBeLessThanOrEqual(9);
    // a sibling path reuses what is open (no second chain): the pinned parent stays valid throughout
    const again = dirs.placeOf(pathFrom(join(p, "y")), pathFrom(area));
    if (!again.ok) throw new Error(again.message);
    expect(again.fd).toBe(held.fd);
    expect(fstatSync(held.fd).ino).toBe(statSync(p).ino);
    held.release();
    again.release();
    expect(openFds() - before).toBeLessThanOrEqual(8);
    // an adopted descriptor (a directory a visit opened) is pinned until its release, whatever else is opened meanwhile
    const adopted = openSync(join(area, "l0"), constants.O_RDONLY | constants.O_DIRECTORY);
    const done = dirs.adopt(pathFrom(join(area, "l0")), adopted);
    const far = dirs.placeOf(pathFrom(join(p, "z")), pathFrom(area));
    if (!far.ok) throw new Error(far.message);
    far.release();
    expect(fstatSync(adopted).ino).toBe(statSync(join(area, "l0")).ino);
    done();
    dirs.closeAll();
    expect(dirs.size).toBe(0);
    expect(openFds()).toBe(before);
  });
});

describe("a directory seen by lstat: opened, checked, listed", () => {
  test("listing returns raw names; errors are values, not exceptions", () => {
    const sub = join(dir, "list");
    fs.mkdirSync(sub);
    writeFileSync(Buffer.concat([Buffer.from(sub + "/"), Buffer.from([0x66, 0xff])]), "");
    const l = listDir(pathFrom(sub));
    expect(l.ok && l.names.map((n) => n.toString("hex"))).toEqual(["66ff"]);
    const missing = listDir(pathFrom(join(dir, "nope")));
    expect(missing).toMatchObject({ ok: false, code: "ENOENT" });
  });

  test("by descriptor: lstat and listing of an entry agree with the same by path; a directory swapped after its lstat is refused", () => {
    const sub = join(dir, "fdwalk");
    fs.mkdirSync(sub);
    writeFileSync(join(sub, "x"), "x");
    fs.symlinkSync("/etc", join(dir, "fdlink"));
    const dfd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const st = statAt(dfd, pathFrom("fdwalk"));
      expect(st).toEqual(statEntry(pathFrom(sub)));
      expect(statAt(dfd, pathFrom("fdlink"))).toEqual(statEntry(pathFrom(join(dir, "fdlink"))));
      if (!st.ok) throw new Error(st.message);
      const seen = { ino: st.attrs.ino, dev: st.dev };
      const l = openAndList(dfd, pathFrom("fdwalk"), seen);
      expect(l.listing).toEqual({ ok: true, names: [Buffer.from("x")] });
      expect(listFd(l.fd!)).toEqual(l.listing);
      expect(statAt(l.fd!, pathFrom("x"))).toEqual(statEntry(pathFrom(join(sub, "x"))));
      closeSync(l.fd!);
      // a symlink where lstat saw the directory: not followed; another directory: not the one seen
      expect(openSeenDir(dfd, pathFrom("fdlink"), seen)).toMatchObject({ ok: false, code: REPLACED });
      fs.renameSync(sub, join(dir, "fdwalk.old"));
      fs.mkdirSync(sub);
      expect(openAndList(dfd, pathFrom("fdwalk"), seen)).toMatchObject({ fd: null, listing: { ok: false, code: REPLACED } });
      fs.rmSync(sub, { recursive: true });
      expect(openSeenDir(dfd, pathFrom("fdwalk"), seen)).toMatchObject({ ok: false, code: REPLACED });
    } finally {
      closeSync(dfd);
    }
  });
});
