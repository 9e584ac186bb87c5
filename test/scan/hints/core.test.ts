// The pure core of change hints: which hinted path is re-checked when, and
// what the coverage says.
import { describe, expect, test } from "bun:test";
import { areaCoverage, coverageSummary, HintQueue } from "../../../src/scan/hints/core.ts";

const p = (s: string) => Buffer.from(s);
const w = { pid: 7, exe: "/usr/bin/dpkg", uid: 0, comm: "dpkg" };

describe("HintQueue", () => {
  test("deduplicates, first hinted first, keeps the last writer named", () => {
    const q = new HintQueue(10, 1000);
    q.add(p("/etc/a"), null, 0);
    q.add(p("/etc/b"), null, 0);
    q.add(p("/etc/a"), w, 1);
    expect(q.size).toBe(2);
    const first = q.take(2)!;
    expect(Buffer.from(first.path).toString()).toBe("/etc/a");
    expect(first.writer).toEqual(w);
    expect(Buffer.from(q.take(2)!.path).toString()).toBe("/etc/b");
    expect(q.take(2)).toBeNull();
  });

  test("a path written continuously is re-checked at most once per hold time", () => {
    const q = new HintQueue(10, 1000);
    q.add(p("/etc/log"), null, 0);
    expect(q.take(0)).not.toBeNull();
    q.add(p("/etc/log"), null, 10);
    expect(q.take(500)).toBeNull();
    expect(q.nextDue(500)).toBe(500);
    expect(q.take(1000)).not.toBeNull();
  });

  test("full: the hint is refused (the caller sweeps the area)", () => {
    const q = new HintQueue(2, 1000);
    expect(q.add(p("/a"), null, 0)).toBe(true);
    expect(q.add(p("/b"), null, 0)).toBe(true);
    expect(q.add(p("/a"), null, 0)).toBe(true); // already waiting
    expect(q.add(p("/c"), null, 0)).toBe(false);
  });
});

describe("coverage", () => {
  test("live, degraded by the watch budget or a sweep, off with the reason", () => {
    expect(areaCoverage("/etc", { backend: "fanotify" })).toEqual({ area: "/etc", backend: "fanotify", state: "live", reason: "" });
    const d = areaCoverage("/usr", { backend: "inotify", unwatched: 3, budget: 2 });
    expect(d.state).toBe("degraded");
    expect(d.reason).toContain("3 directories without a watch (watch budget hintwatches = 2 reached)");
    expect(areaCoverage("/etc", { backend: "fanotify", sweeping: true }).reason).toContain("overflowed");
    expect(areaCoverage("/etc", { backend: "none", failed: "hints = off" })).toEqual({ area: "/etc", backend: "none", state: "off", reason: "hints = off" });
    expect(coverageSummary([areaCoverage("/etc", { backend: "fanotify" })])).toBe("change hints: live on every area (fanotify)");
    expect(coverageSummary([areaCoverage("/etc", { backend: "fanotify" }), d])).toBe(`change hints: live on /etc; /usr degraded (${d.reason})`);
  });
});
