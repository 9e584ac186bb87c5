// Daemon signals on the real binary: SIGHUP reload (a broken config keeps the
// old one running), SIGTERM/SIGINT stop promptly with exit 0.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";
import { throwawayUser } from "../support/users.ts";

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir("integrityd-sig-")));
afterAll(() => cleanup());

function setup(name: string) {
  const body = `database = ${join(dir, name + ".sqlite")}\nemail = none\n`;
  const conf = writeConfig(dir, body, name + ".conf");
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  return { conf, body };
}

test("SIGHUP with a broken config keeps the daemon running; a good one is applied", async () => {
  const { conf, body } = setup("hup");
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  writeConfig(dir, body + "filerate = 0\nnonsense\n", "hup.conf");
  d.kill("SIGHUP");
  await d.waitFor(/new configuration rejected/);
  expect(d.stderr).toContain(`${conf}:3: filerate: must not be zero`);
  expect(d.stderr).toContain(`${conf}:4: missing '='`);
  expect(d.proc.exitCode).toBeNull(); // still running
  writeConfig(dir, body + "filerate = 2\n", "hup.conf");
  d.kill("SIGHUP");
  await d.waitFor(/SIGHUP: reloaded/);
  d.kill("SIGTERM");
  expect(await d.exited).toBe(0);
});

test("SIGINT stops the daemon with exit 0 and the database stays valid", async () => {
  const { conf } = setup("int");
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  const t0 = Date.now();
  d.kill("SIGINT");
  expect(await d.exited).toBe(0);
  expect(Date.now() - t0).toBeLessThan(5000); // the 5-second stop promise, not a benchmark
  expect(run(["--init-db", "--config", conf]).stdout).toContain("up to date");
});

test("a config handed to a local user is refused at start (78) and on SIGHUP the running one is kept", async () => {
  const user = throwawayUser("untrusted config on SIGHUP");
  if (!user) return;
  try {
    chmodSync(dir, 0o755);
    const { conf, body } = setup("owned");
    const d = new DaemonProc(["--config", conf]);
    await d.waitFor(/integrityd started/);
    // the user now owns the file and points sendmail at a program of theirs
    const ubin = join(dir, "ubin");
    mkdirSync(ubin);
    chownSync(ubin, user.uid, user.gid);
    writeConfig(dir, `${body}sendmail = ${join(ubin, "mta")}\n`, "owned.conf");
    chownSync(conf, user.uid, user.gid);
    d.kill("SIGHUP");
    await d.waitFor(/new configuration rejected/);
    expect(d.stderr).toContain(`owned by uid ${user.uid}`);
    expect(d.proc.exitCode).toBeNull();
    d.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    const again = run(["--config", conf]);
    expect(again.code).toBe(78);
    expect(again.stderr).toContain("refused");
  } finally {
    user.remove();
  }
});
