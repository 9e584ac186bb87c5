// The fanotify ignore mark (src/scan/hints/ffi.ts fanotifyIgnore): the
// database's own writes, on the same file system as an area, are dropped by
// the kernel instead of being queued for the watcher. Real fanotify; skipped
// with the reason where the kernel or our privileges refuse it.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeQuietly } from "../../../src/scan/dirs.ts";
import { hintCalls } from "../../../src/scan/hints/ffi.ts";

function fanotifyOrWhy(): { fd: number } | { why: string } {
  const c = hintCalls();
  if (!c) return { why: "no libc calls here" };
  try {
    return { fd: c.fanotifyInit() };
  } catch (e) {
    return { why: `fanotify_init refused: ${(e as Error).message}` };
  }
}

test("an ignore mark drops the events of a directory's entries; the rest of the file system still reports", () => {
  const f = fanotifyOrWhy();
  if ("why" in f) return console.log(`skipped: ${f.why}`);
  const c = hintCalls()!;
  const base = mkdtempSync("/var/tmp/integrityd-fan-");
  try {
    mkdirSync(join(base, "db"));
    mkdirSync(join(base, "area"));
    const count = (ignore: boolean): number => {
      const fd = c.fanotifyInit();
      try {
        c.fanotifyMark(fd, join(base, "area"));
        if (ignore) expect(c.fanotifyIgnore(fd, join(base, "db"))).toBe(true);
        for (let i = 0; i < 20; i++) writeFileSync(join(base, "db", `wal${i}`), "x");
        writeFileSync(join(base, "area", "a"), "x");
        const buf = new Uint8Array(1 << 20);
        let total = 0;
        for (let n = c.read(fd, buf); n > 0; n = c.read(fd, buf)) total += n;
        return total;
      } finally {
        closeQuietly(fd);
      }
    };
    const without = count(false);
    const withIgnore = count(true);
    expect(withIgnore).toBeGreaterThan(0); // the area's write still comes
    expect(withIgnore * 10).toBeLessThan(without); // 20 files' events gone
  } finally {
    closeQuietly(f.fd);
    rmSync(base, { recursive: true, force: true });
  }
});
