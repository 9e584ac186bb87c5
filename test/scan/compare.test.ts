// Old record + what a visit found -> reports and history row (pure: no db, no clock).
import { describe, expect, test } from "bun:test";
import type { Attrs } from "../../src/scan/attrs.ts";
import {
  baselineReport, compareVisit, deletionVerdict, losesChildren, problemReport, sameRecord, type Recorded,
} from "../../src/scan/compare.ts";

function attrs(over: Partial<Attrs> = {}): Attrs {
  return {
    type: "file", mode: 0o644, uid: 0, gid: 0, size: 10n, ino: 5n, nlink: 1, mtime: 1_700_000_000_123_456_789n,
    ctime: 1_700_000_000_123_456_789n, rdev: 0n, target: null, hash: "sha256:aa", ...over,
  };
}
function rec(over: Partial<Recorded> = {}): Recorded {
  return { ...attrs(), error: null, placeholder: false, ...over };
}
/** A shown() that counts its calls: the printable path is made only when a report needs it. */
function shownCounter(s = "/etc/x") {
  const c = { calls: 0, shown: () => (c.calls++, s) };
  return c;
}

describe("compareVisit", () => {
  test("first pass: a new entry is recorded silently (the path is never even made printable); a new directory is flagged", () => {
    const c = shownCounter();
    const v = compareVisit(null, attrs(), null, { baseline: true, shown: c.shown, below: 0 });
    expect(v).toEqual({ reports: [], history: null, newDir: false, same: false });
    expect(compareVisit(null, attrs({ type: "dir", hash: null }), null, { baseline: true, shown: c.shown, below: 0 }).newDir).toBe(true);
    expect(c.calls).toBe(0);
  });

  test("after the baseline: New with its attributes, and a history row", () => {
    const v = compareVisit(null, attrs(), null, { baseline: false, shown: () => "/etc/x", below: 0 });
    expect(v.reports).toHaveLength(1);
    expect(v.reports[0]).toMatchObject({ kind: "new", subject: "/etc/x", text: "New: /etc/x\n  file, 0644, 0:0, 10 bytes" });
    expect(v.reports[0].details).toMatchObject({ path: "/etc/x", after: { type: "file", mode: "0644", hash: "sha256:aa" } });
    expect(v.history).toMatchObject({ kind: "new", before: null, after: { size: "10" } });
    expect(v.same).toBe(false);
  });

  test("a placeholder (only a problem was recorded) counts as no record", () => {
    const old = rec({ placeholder: true, error: "permission denied (EACCES)" });
    const v = compareVisit(old, attrs(), null, { baseline: false, shown: () => "/etc/x", below: 0 });
    expect(v.reports.map((r) => r.kind)).toEqual(["new"]);
    expect(v.history?.kind).toBe("new");
  });

  test("unchanged: nothing to report, only the check time to write", () => {
    const c = shownCounter();
    const v = compareVisit(rec(), attrs(), null, { baseline: false, shown: c.shown, below: 0 });
    expect(v).toEqual({ reports: [], history: null, newDir: false, same: true });
    expect(c.calls).toBe(0);
  });

  test("changed: each attribute before => after, the changes in the details, before and after in history", () => {
    const v = compareVisit(rec(), attrs({ mode: 0o4755, hash: "sha256:bb" }), null, { baseline: false, shown: () => "/bin/x", below: 0 });
    expect(v.reports.map((r) => r.text)).toEqual(["Changed: /bin/x\n  mode: 0644 => 4755\n  hash: sha256:aa => sha256:bb"]);
    expect(v.reports[0].details.changes).toEqual({ mode: ["0644", "4755"], hash: ["sha256:aa", "sha256:bb"] });
    expect(v.history).toMatchObject({ kind: "changed", before: { mode: "0644" }, after: { mode: "4755" } });
    expect(v.same).toBe(false);
  });

  test("a change found during the first pass is still reported (only new entries are silent)", () => {
    const v = compareVisit(rec(), attrs({ uid: 7 }), null, { baseline: true, shown: () => "/x", below: 0 });
    expect(v.reports.map((r) => r.kind)).toEqual(["changed"]);
  });

  test("a directory replaced by a file: the change notes what went below it", () => {
    const dir = rec({ type: "dir", hash: null });
    const file = attrs();
    expect(losesChildren(dir, file)).toBe(true);
    expect(losesChildren(dir, attrs({ type: "dir", hash: null }))).toBe(false);
    expect(losesChildren(rec(), file)).toBe(false);
    expect(losesChildren({ ...dir, placeholder: true }, file)).toBe(false);
    const one = compareVisit(dir, file, null, { baseline: false, shown: () => "/d", below: 1 });
    expect(one.reports[0].text).toEndWith("\n  1 entry below it went with it");
    const many = compareVisit(dir, file, null, { baseline: false, shown: () => "/d", below: 3 });
    expect(many.reports[0].text).toStartWith("Changed: /d\n  type: dir => file");
    expect(many.reports[0].text).toEndWith("\n  3 entries below it went with it");
  });

  test("a problem is reported when it is new, after the change; the same problem again is not", () => {
    const v = compareVisit(rec(), attrs({ uid: 1 }), "vanished while being read", { baseline: false, shown: () => "/x", below: 0 });
    expect(v.reports.map((r) => r.kind)).toEqual(["changed", "error"]);
    expect(v.reports[1]).toMatchObject({ text: "Error: /x: vanished while being read", details: { path: "/x", error: "vanished while being read" } });
    const again = compareVisit(rec({ error: "vanished while being read" }), attrs(), "vanished while being read", { baseline: false, shown: () => "/x", below: 0 });
    expect(again.reports).toEqual([]);
    expect(again.same).toBe(true);
    // a problem during the first pass is reported too
    expect(compareVisit(null, attrs(), "x", { baseline: true, shown: () => "/x", below: 0 }).reports.map((r) => r.kind)).toEqual(["error"]);
  });
});

describe("sameRecord", () => {
  test("every stored attribute and the problem must match; a placeholder never does", () => {
    expect(sameRecord(rec(), attrs(), null)).toBe(true);
    expect(sameRecord(rec(), attrs(), "e")).toBe(false);
    expect(sameRecord(rec({ placeholder: true }), attrs(), null)).toBe(false);
    // attributes the comparison ignores are still stored: a new mtime of a directory is written
    expect(sameRecord(rec({ type: "dir", hash: null }), attrs({ type: "dir", hash: null, mtime: 1n }), null)).toBe(false);
    const link = rec({ type: "symlink", hash: null, target: new Uint8Array([1, 2]) });
    expect(sameRecord(link, { ...link, target: new Uint8Array([1, 2]) }, null)).toBe(true);
    expect(sameRecord(link, { ...link, target: new Uint8Array([1, 3]) }, null)).toBe(false);
    expect(sameRecord(link, { ...link, target: null }, null)).toBe(false);
  });
});

describe("deletionVerdict", () => {
  test("Deleted, with its type and what went below it; history keeps the old attributes", () => {
    const v = deletionVerdict(rec(), 0, "/etc/x")!;
    expect(v.report).toMatchObject({ kind: "deleted", subject: "/etc/x", text: "Deleted: /etc/x", details: { below: 0 } });
    expect(v.history).toMatchObject({ kind: "deleted", before: { type: "file" }, after: null });
    const tree = deletionVerdict(rec({ type: "dir", hash: null }), 3, "/d")!;
    expect(tree.report.text).toBe("Deleted: /d (dir with 3 entries below it)");
  });
  test("nothing recorded, or only a problem: nothing to report; entries below a missing record are a directory", () => {
    expect(deletionVerdict(null, 0, "/x")).toBeNull();
    expect(deletionVerdict(rec({ placeholder: true, error: "e" }), 0, "/x")).toBeNull();
    expect(deletionVerdict(null, 2, "/d")?.report.text).toBe("Deleted: /d (dir with 2 entries below it)");
    expect(deletionVerdict(null, 2, "/d")?.history.before).toBeNull();
  });
});

describe("problemReport and baselineReport", () => {
  test("a problem is reported once", () => {
    expect(problemReport(null, "permission denied (EACCES)", "/x")).toMatchObject({ kind: "error", text: "Error: /x: permission denied (EACCES)" });
    expect(problemReport({ error: "permission denied (EACCES)" }, "permission denied (EACCES)", "/x")).toBeNull();
    expect(problemReport({ error: "other" }, "permission denied (EACCES)", "/x")).not.toBeNull();
  });
  test("the baseline summary", () => {
    expect(baselineReport({ entries: 10, files: 7, bytes: 3 * 1024 * 1024 }, 65_000)).toEqual({
      kind: "baseline", subject: "baseline", text: "Baseline: recorded 10 entries (7 files, 3.0 MiB) in 1m 5s",
      details: { entries: 10, files: 7, bytes: 3 * 1024 * 1024, ms: 65_000 },
    });
  });
});
