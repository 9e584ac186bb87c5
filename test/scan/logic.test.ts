// Pure scanner logic: paths, exclude matching, comparison and report text, pacing (fake time).
import { describe, expect, test } from "bun:test";
import { baselineText, changedText, compareAttrs, deletedText, formatMode, formatTime, newText, type Attrs } from "../../src/scan/attrs.ts";
import { isGlob, makeExcluder } from "../../src/scan/exclude.ts";
import { Gate, Pacer, effectiveSpeed, speedOnChange, speedOnCycleEnd, type SpeedState } from "../../src/scan/pace.ts";
import { isWithin, joinPath, parentOf, pathFrom, showPath, subtreeRange } from "../../src/scan/paths.ts";
import { normalizeAreas } from "../../src/scan/scanner.ts";

const b = (s: string) => pathFrom(s);
const str = (p: Uint8Array) => Buffer.from(p).toString("latin1");

describe("paths", () => {
  test("join, parent, within", () => {
    expect(str(joinPath(b("/etc"), b("ssh")))).toBe("/etc/ssh");
    expect(str(joinPath(b("/"), b("etc")))).toBe("/etc");
    expect(str(parentOf(b("/etc/ssh")))).toBe("/etc");
    expect(str(parentOf(b("/etc")))).toBe("/");
    expect(parentOf(b("/")).length).toBe(0);
    expect(isWithin(b("/etc/ssh"), b("/etc"))).toBe(true);
    expect(isWithin(b("/etc"), b("/etc"))).toBe(true);
    expect(isWithin(b("/etcetera"), b("/etc"))).toBe(false);
    expect(isWithin(b("/anything"), b("/"))).toBe(true);
  });
  test("subtree range holds exactly the paths below", () => {
    const [lo, hi] = subtreeRange(b("/a/b"));
    const inside = (p: string) => Buffer.compare(Buffer.from(p), Buffer.from(lo)) >= 0 && Buffer.compare(Buffer.from(p), Buffer.from(hi)) < 0;
    expect(inside("/a/b/c")).toBe(true);
    expect(inside("/a/b/\xff")).toBe(true);
    expect(inside("/a/b")).toBe(false);
    expect(inside("/a/b.c")).toBe(false);
    expect(inside("/a/bc")).toBe(false);
    expect(inside("/a/b0")).toBe(false);
    const [rlo, rhi] = subtreeRange(b("/"));
    expect(str(rlo)).toBe("/");
    expect(str(rhi)).toBe("0");
  });
  test("non-UTF-8 and control bytes are escaped for reports", () => {
    const p = new Uint8Array([...Buffer.from("/x/a"), 0xff, 0x0a, ...Buffer.from("b")]);
    expect(showPath(p)).toBe("/x/a\\xff\\nb");
  });
  test("nested areas are merged", () => {
    expect(normalizeAreas(["/etc/ssh", "/etc", "/usr/bin", "/etc"]).map(str)).toEqual(["/etc", "/usr/bin"]);
  });
});

describe("exclude", () => {
  test("exact path and prefix by whole components", () => {
    const m = makeExcluder(["/etc/mtab", "/var/log/"]);
    expect(m(b("/etc/mtab"))).toBe(true);
    expect(m(b("/etc/mtab/x"))).toBe(true);
    expect(m(b("/etc/mtab.evil"))).toBe(false);
    expect(m(b("/var/log/syslog"))).toBe(true);
    expect(m(b("/var/logger"))).toBe(false);
    expect(m(b("/etc/passwd"))).toBe(false);
  });
  test("glob characters make a picomatch glob", () => {
    expect(isGlob("/var/lib/**/*.cache")).toBe(true);
    expect(isGlob("/etc/a?b")).toBe(true);
    expect(isGlob("/etc/[ab]")).toBe(true);
    expect(isGlob("/etc/plain")).toBe(false);
    const m = makeExcluder(["/var/lib/**/*.cache", "/etc/*.swp"]);
    expect(m(b("/var/lib/x/y/z.cache"))).toBe(true);
    expect(m(b("/var/lib/z.cache"))).toBe(true);
    expect(m(b("/var/lib/x/.hidden.cache"))).toBe(true);
    expect(m(b("/var/lib/x/z.cache2"))).toBe(false);
    expect(m(b("/etc/.passwd.swp"))).toBe(true);
    expect(m(b("/etc/sub/a.swp"))).toBe(false);
    // a non-UTF-8 name is still matched by a wildcard
    expect(m(new Uint8Array([...Buffer.from("/etc/"), 0xff, ...Buffer.from(".swp")]))).toBe(true);
  });
});

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

/** Drive a pacer with a fake clock: each operation waits what the pacer says, then takes `work` ms. */
function simulate(p: Pacer, n: number, work = 0, start = 1_000_000): number[] {
  let now = start;
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    now += p.entryWait(now);
    starts.push(now);
    now += work;
  }
  return starts;
}

const RATES = { filerate: 2, byterate: 1 << 20, smallfiles: 131072, speedup: 20 };

describe("pacing (fake clock)", () => {
  test("filerate entries per second", () => {
    const p = new Pacer(RATES);
    const s = simulate(p, 101);
    expect(s[100] - s[0]).toBe(50_000); // 100 intervals of 500 ms
  });
  test("speed factor multiplies the rate", () => {
    const p = new Pacer(RATES);
    p.speed = 20;
    const s = simulate(p, 101);
    expect(s[100] - s[0]).toBe(2_500);
  });
  test("no catch-up burst after falling behind", () => {
    const p = new Pacer(RATES);
    let now = 0;
    now += p.entryWait(now); // entry 1 at 0
    now += 60_000; // a minute-long stall (slow disk, huge file, suspend)
    const starts: number[] = [];
    for (let i = 0; i < 10; i++) {
      now += p.entryWait(now);
      starts.push(now);
    }
    // after the stall, entries go on at the normal spacing: no burst
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBe(500);
    expect(starts[0]).toBe(60_000);
  });
  test("timer jitter within one interval is absorbed, so the long-run rate stays exact", () => {
    const g = new Gate(250);
    let now = 0;
    let done = 0;
    for (let i = 0; i < 1000; i++) {
      now += g.reserve(now, 62.5) + 2; // every timer fires 2 ms late
      done++;
    }
    // without absorbing the lateness the rate would be 3% low
    expect(Math.abs(now - 1000 * 62.5) / (1000 * 62.5)).toBeLessThan(0.01);
    expect(done).toBe(1000);
  });
  test("large files are read at byterate in chunks; small ones in one go", () => {
    const p = new Pacer({ ...RATES, byterate: 1 << 20 });
    expect(p.isSmall(131072)).toBe(true);
    expect(p.isSmall(131073)).toBe(false);
    const chunk = p.chunkSize();
    expect(chunk).toBe(65536);
    let now = 0;
    const size = 8 << 20;
    for (let read = 0; read < size; read += chunk) now += p.bytesWait(now, chunk);
    // 8 MiB at 1 MiB/s: the last chunk starts 8 s minus one chunk after the first
    expect(now).toBe(8000 - 62.5);
    p.speed = 4;
    expect(p.chunkSize()).toBe(262144);
  });
  test("unlimited (scan-once) never waits", () => {
    const p = new Pacer(RATES, { unlimited: true });
    expect(simulate(p, 50).at(-1)).toBe(1_000_000);
    expect(p.bytesWait(0, 1 << 30)).toBe(0);
    expect(p.isSmall(1 << 30)).toBe(true);
  });
  test("speedup after a change, back to 1 after one full clean cycle", () => {
    let s: SpeedState = { speed: 20, cycleChanges: 0, firstPassComplete: false };
    expect(effectiveSpeed(s, 20)).toBe(20); // first pass runs sped up
    s = speedOnCycleEnd(s, 20); // clean first pass
    expect(s.speed).toBe(1);
    expect(s.firstPassComplete).toBe(true);
    s = speedOnChange(s, 20); // change found in cycle k
    expect(s.speed).toBe(20);
    s = speedOnChange(s, 20);
    s = speedOnCycleEnd(s, 20); // end of cycle k: it had changes, stay fast
    expect(s.speed).toBe(20);
    s = speedOnCycleEnd(s, 20); // end of cycle k+1: clean
    expect(s.speed).toBe(1);
    expect(effectiveSpeed({ speed: 20, cycleChanges: 0, firstPassComplete: true }, 5)).toBe(5); // speedup lowered by reload
  });
  test("rate change on reload takes effect at once", () => {
    const p = new Pacer(RATES);
    simulate(p, 3);
    p.setRates({ ...RATES, filerate: 10 });
    const s = simulate(p, 11, 0, 2_000_000);
    expect(s[10] - s[0]).toBe(1000);
  });
});
