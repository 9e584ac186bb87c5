// Children of our own program (src/util/selfchild.ts), driven with stand-in
// commands: whatever ends the wait, the reason is the child's own and no
// child is left running.
import { expect, test } from "bun:test";
import { ChildStartError, runChild } from "../../src/util/selfchild.ts";

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test("the answer, an exit status with its stderr, a child that will not read its input", async () => {
  expect(new TextDecoder().decode(await runChild(["/bin/sh", "-c", "cat; printf ' done'"], "ignored-arg", "job", 10_000, 1024))).toBe("job done");
  await expect(runChild(["/bin/sh", "-c", "echo 'bad job' >&2; exit 3"], "x", "{}", 10_000, 1024)).rejects.toThrow("it exited with 3: bad job");
  // exits at once without reading 4 MB of input: its status, not EPIPE
  await expect(runChild(["/bin/sh", "-c", "exit 5"], "x", "y".repeat(4 << 20), 10_000, 1024)).rejects.toThrow("it exited with 5");
  await expect(runChild(["/nonexistent/integrityd"], "x", "{}", 10_000, 1024)).rejects.toBeInstanceOf(ChildStartError);
});

test("past its time, too much output, an abort: killed, reaped, said", async () => {
  await expect(runChild(["/bin/sh", "-c", "exec sleep 30"], "x", "", 300, 1024)).rejects.toThrow("it exited with SIGKILL");
  await expect(runChild(["/bin/sh", "-c", "exec head -c 100000 /dev/zero"], "x", "", 10_000, 1024)).rejects.toThrow("its output is too large");
  const ac = new AbortController();
  const p = runChild(["/bin/sh", "-c", "exec sleep 30"], "x", "", 10_000, 1024, ac.signal);
  setTimeout(() => ac.abort(), 200);
  await expect(p).rejects.toThrow("it exited with SIGTERM");
});

test("a grandchild that keeps the pipes open does not hold the caller past the grace", async () => {
  const t0 = performance.now();
  // the child ignores SIGTERM, its own child holds stdout for 20 s; the time limit kills the child
  const pidFile = `/tmp/integrityd-grandchild-${process.pid}`;
  const p = runChild(["/bin/sh", "-c", `trap '' TERM; sleep 20 & echo $! > ${pidFile}; wait`], "x", "", 500, 1024);
  await expect(p).rejects.toThrow("it exited with SIGKILL");
  expect(performance.now() - t0).toBeLessThan(10_000);
  process.kill(Number(await Bun.file(pidFile).text()), "SIGKILL"); // the grandchild
});

test("no child outlives a call", async () => {
  const pidFile = `/tmp/integrityd-selfchild-${process.pid}`;
  await expect(runChild(["/bin/sh", "-c", `echo $$ > ${pidFile}; exit 9`], "x", "", 10_000, 1024)).rejects.toThrow("it exited with 9");
  const pid = Number(await Bun.file(pidFile).text());
  expect(alive(pid)).toBe(false);
});
