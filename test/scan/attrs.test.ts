// Comparing two records and the report text (pure).
import { describe, expect, test } from "bun:test";
import { baselineText, changedText, compareAttrs, deletedText, formatMode, formatTime, newText, type Attrs } from "../../src/scan/attrs.ts";

function file(over: Partial<Attrs> = {}): Attrs {
  return {
    type: "file", mode: 0o644, uid: 0, gid: 0, size: 10n, ino: 5n, nlink: 1, mtime: 1_700_000_000_123_456_789n,
    ctime: 1_700_000_000_123_456_789n, rdev: 0n, target: null, hash: "sha256:aa", ...over,
  };
}

describe("compare and report text", () => {
  test("identical records: no difference", () => {
    expect(compareAttrs(file(), file())).toEqual([]);
  });
  test("each differing attribute as before => after", () => {
    const d = compareAttrs(file(), file({ mode: 0o4755, uid: 1000, hash: "sha256:bb" }));
    expect(d.map((x) => x.attr)).toEqual(["mode", "uid", "hash"]);
    expect(changedText("/bin/x", d)).toBe("Changed: /bin/x\n  mode: 0644 => 4755\n  uid: 0 => 1000\n  hash: sha256:aa => sha256:bb");
  });
  test("an unknown hash on either side is never a change; neither is a new algorithm", () => {
    expect(compareAttrs(file({ hash: null }), file({ hash: "sha256:bb" }))).toEqual([]);
    expect(compareAttrs(file(), file({ hash: null }))).toEqual([]);
    expect(compareAttrs(file(), file({ hash: "sha512:cc" }))).toEqual([]);
    expect(compareAttrs(file(), file({ hash: "sparse-sha512:cc" }))).toEqual([]);
  });
  test("a file turned sparse (or dense) under the same algorithm: its hash line is reported", () => {
    const d = compareAttrs(file(), file({ hash: "sparse-sha256:bb" }));
    expect(d.map((x) => x.attr)).toEqual(["hash"]);
    expect(changedText("/x", d)).toBe("Changed: /x\n  hash: sha256:aa => sparse-sha256:bb");
    expect(compareAttrs(file({ hash: "sparse-sha256:bb" }), file())).toHaveLength(1);
  });
  test("directories ignore mtime/size/nlink (children are reported themselves) but not mode or owner", () => {
    const dir = file({ type: "dir", hash: null });
    expect(compareAttrs(dir, { ...dir, mtime: 1n, ctime: 2n, size: 4096n, nlink: 7 })).toEqual([]);
    expect(compareAttrs(dir, { ...dir, mode: 0o777, gid: 4 }).map((x) => x.attr)).toEqual(["mode", "gid"]);
  });
  test("symlink target compared byte for byte and shown escaped", () => {
    const l = file({ type: "symlink", mode: 0o777, hash: null, target: new Uint8Array(Buffer.from("/etc/passwd")) });
    const d = compareAttrs(l, { ...l, target: new Uint8Array([0x2f, 0xff]) });
    expect(d).toEqual([{ attr: "target", before: "/etc/passwd", after: "/\\xff" }]);
  });
  test("type change lists the type and what differs", () => {
    const d = compareAttrs(file(), file({ type: "fifo", hash: null, size: 0n }));
    expect(d[0]).toEqual({ attr: "type", before: "file", after: "fifo" });
    expect(d.map((x) => x.attr)).toContain("hash");
  });
  test("New / Deleted / Baseline lines", () => {
    expect(newText("/etc/x", file())).toBe("New: /etc/x\n  file, 0644, 0:0, 10 bytes");
    expect(deletedText("/etc/x", "file", 0)).toBe("Deleted: /etc/x");
    expect(deletedText("/etc/d", "dir", 3)).toBe("Deleted: /etc/d (dir with 3 entries below it)");
    expect(baselineText(10, 7, 3 * 1024 * 1024, 65_000)).toBe("Baseline: recorded 10 entries (7 files, 3.0 MiB) in 1m 5s");
  });
  test("formats", () => {
    expect(formatMode(0o1777)).toBe("1777");
    expect(formatMode(0o600)).toBe("0600");
    expect(formatTime(1_700_000_000_123_456_789n)).toBe("2023-11-14T22:13:20.123456789Z");
    expect(formatTime(0n)).toBe("1970-01-01T00:00:00.000000000Z");
  });
});

describe("the words of a Changed report", () => {
  const base: Attrs = { type: "file", mode: 0o644, uid: 0, gid: 0, size: 10n, ino: 1n, nlink: 1, mtime: 1_700_000_000_123_456_789n, ctime: 1_700_000_000_123_456_789n, rdev: 0n, target: null, hash: "sha256:aa" };
  test("times to the second, unless the two differ only below it", () => {
    const later = compareAttrs(base, { ...base, mtime: base.mtime + 5_000_000_000n });
    expect(later[0]).toEqual({ attr: "mtime", before: "2023-11-14T22:13:20Z", after: "2023-11-14T22:13:25Z" });
    const sub = compareAttrs(base, { ...base, mtime: base.mtime + 1000n });
    expect(sub[0]).toEqual({ attr: "mtime", before: "2023-11-14T22:13:20.123456789Z", after: "2023-11-14T22:13:20.123457789Z" });
  });
  test("ctime only when nothing else changed; the details keep it", () => {
    const both = compareAttrs(base, { ...base, hash: "sha256:bb", ctime: base.ctime + 7_000_000_000n });
    expect(both.map((d) => d.attr).sort()).toEqual(["ctime", "hash"]); // the details keep ctime
    const text = changedText("/etc/x", both);
    expect(text).toContain("hash: sha256:aa => sha256:bb");
    expect(text).not.toContain("ctime");
    const alone = changedText("/etc/x", compareAttrs(base, { ...base, ctime: base.ctime + 7_000_000_000n }));
    expect(alone).toBe("Changed: /etc/x\n  ctime: 2023-11-14T22:13:20Z => 2023-11-14T22:13:27Z");
  });
});
