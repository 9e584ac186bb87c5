// Who wrote: read from /proc; a process named to forge report lines stays one escaped field.
import { expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readWriter, writerText } from "../../../src/scan/hints/writer.ts";

test("attack: an executable named with a newline cannot forge a line of the report", async () => {
  const dir = mkdtempSync(join(tmpdir(), "integrityd-writer-"));
  const exe = join(dir, "x\nChanged: y");
  copyFileSync("/bin/sleep", exe);
  const child = Bun.spawn([exe, "5"]);
  try {
    await Bun.sleep(100);
    const w = readWriter(child.pid);
    expect(w.pid).toBe(child.pid);
    expect(w.uid).toBe(process.getuid!());
    expect(w.exe).toBe(`${dir}/x\\nChanged: y`);
    expect(w.comm).toBe("x\\nChanged: y");
    expect(writerText(w).split("\n").length).toBe(1);
  } finally {
    child.kill(9);
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a process that is gone: the PID alone, no throw", () => {
  const w = readWriter(2 ** 22 + 12345);
  expect(w).toEqual({ pid: 2 ** 22 + 12345, exe: null, uid: null, comm: null });
  expect(writerText(w)).toBe(`  written by an exited process (PID ${2 ** 22 + 12345})`);
});
