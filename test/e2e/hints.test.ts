// End to end: the compiled daemon with change hints (its watcher thread is a
// second program inside the binary). A change is printed within seconds with
// a trickle that would take hours, with the process that made it; --status
// says where hints are live; SIGTERM stops it promptly.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, run, tempDir, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";
import { hintCalls } from "../../src/scan/hints/ffi.ts";

/** Whether this kernel gives root fanotify with a filesystem mark. */
function fanotifyHere(): boolean {
  try {
    const c = hintCalls()!;
    const fd = c.fanotifyInit();
    c.fanotifyMark(fd, "/tmp");
    require("node:fs").closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

const { dir, cleanup } = tempDir("integrityd-e2e-hints-");
afterAll(cleanup);

for (const mode of ["auto", "inotify"] as const) {
  test(`hints = ${mode}: a change is reported in seconds, --status names the backend, stop is prompt`, async () => {
    const area = join(dir, mode, "area");
    mkdirSync(area, { recursive: true });
    writeFileSync(join(area, "conf"), "old\n");
    const conf = writeConfig(join(dir, mode), `email = none\ndatabase = ${join(dir, mode, "db", "i.sqlite")}\narea = ${area}\nfilerate = 0.001\nspeedup = 1\nhints = ${mode}\n`);
    expect(run(["--config", conf, "--init-db"]).code).toBe(0);
    expect(run(["--config", conf, "--scan-once"]).code).toBe(0);
    const d = new DaemonProc(["--config", conf, "--stdout"]);
    try {
      await d.waitFor(/change hints: /);
      const backend = /change hints: live on every area \((\w+)\)/.exec(d.stderr)?.[1];
      expect(backend === "fanotify" || backend === "inotify").toBe(true);
      if (mode === "inotify") expect(backend).toBe("inotify");
      const child = Bun.spawn(["sh", "-c", `echo new > ${area}/conf; sleep 1`]);
      await d.waitFor(/Changed: .*\/conf/, "stdout", 10_000);
      await child.exited;
      if (backend === "fanotify") expect(d.stdout).toContain(`(PID ${child.pid}, UID 0)`);
      const status = run(["--config", conf, "--status"]);
      expect(status.stdout).toContain(`change hints:             live on every area (${backend})`);
      const t0 = Date.now();
      d.kill("SIGTERM");
      expect(await d.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      d.kill("SIGKILL");
    }
  }, 30_000);
}

test("under the unit's capability bounding set and NoNewPrivileges, hints get fanotify where the kernel gives it to root", async () => {
  if (!existsSync("/usr/bin/setpriv") || process.getuid?.() !== 0) {
    console.error("skipped (hints under the unit's hardening): needs root and setpriv");
    return;
  }
  const unit = run(["--print-unit"]).stdout;
  const caps = /^CapabilityBoundingSet=(.*)$/m.exec(unit)![1].split(/\s+/).map((c) => `+${c.replace(/^CAP_/, "").toLowerCase()}`);
  const area = join(dir, "unit", "area");
  mkdirSync(area, { recursive: true });
  const conf = writeConfig(join(dir, "unit"), `email = none\ndatabase = ${join(dir, "unit", "db", "i.sqlite")}\narea = ${area}\nhints = auto\n`);
  expect(run(["--config", conf, "--init-db"]).code).toBe(0);
  const p = Bun.spawn(["/usr/bin/setpriv", `--bounding-set=-all,${caps.join(",")}`, "--inh-caps=-all", "--no-new-privs", BIN, "--config", conf], { stdout: "pipe", stderr: "pipe" });
  let err = "";
  const dec = new TextDecoder();
  const reader = (async () => { for await (const c of p.stderr) err += dec.decode(c, { stream: true }); })();
  for (let i = 0; i < 200 && !/change hints: /.test(err); i++) await Bun.sleep(50);
  p.kill("SIGTERM");
  await p.exited;
  await reader;
  const line = /change hints: .*/.exec(err)?.[0] ?? "";
  // where the kernel gives root fanotify, the unit must not take it away
  expect(line).toBe(`change hints: live on every area (${fanotifyHere() ? "fanotify" : "inotify"})`);
}, 30_000);
