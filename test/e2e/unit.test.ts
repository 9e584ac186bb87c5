// The systemd unit: valid for systemd-analyze, and its hardening lets the
// local MTA's sendmail (the default transport where it exists) deliver — the
// unit's capability bounding set and no-new-privileges applied with the real
// setpriv to the real /usr/sbin/sendmail.
import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "../support/binary.ts";

const unitText = () => readFileSync(join(ROOT, "etc/integrityd.service"), "utf8").replaceAll("@SBINDIR@", join(ROOT, "dist"));

test("systemd-analyze verify accepts the unit", () => {
  if (!existsSync("/usr/bin/systemd-analyze")) {
    console.error("skipped (unit verify): systemd-analyze is not installed");
    return;
  }
  const { dir, cleanup } = tempDir("integrityd-unit-");
  try {
    const unit = join(dir, "integrityd.service");
    writeFileSync(unit, unitText());
    const r = Bun.spawnSync(["systemd-analyze", "verify", unit], { stdout: "pipe", stderr: "pipe" });
    // verify exits 0 even for unknown keys and bad values; it says so on stderr
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  } finally {
    cleanup();
  }
});

test("the unit's restart policy, stop time and directories", () => {
  const u = unitText();
  expect(u).toMatch(/^RestartPreventExitStatus=64 74 75 78$/m);
  expect(u).toMatch(/^ExecStartPre=.* --check-config --quiet$/m);
  expect(u).toMatch(/^StateDirectory=integrityd$/m);
  expect(u).toMatch(/^LogsDirectory=integrityd$/m);
  expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(u)?.[1])).toBeGreaterThan(20); // the stop flushes for up to 10 s, 20 s in all
});

test("under the unit's capability bounding set and NoNewPrivileges, the local MTA's sendmail accepts a message", () => {
  if (!existsSync("/usr/sbin/sendmail") || !existsSync("/usr/bin/setpriv") || process.getuid?.() !== 0) {
    console.error("skipped (sendmail under the unit's hardening): needs root, setpriv and /usr/sbin/sendmail");
    return;
  }
  const caps = /^CapabilityBoundingSet=(.*)$/m.exec(unitText())![1].split(/\s+/).map((c) => `+${c.replace(/^CAP_/, "").toLowerCase()}`);
  expect(/^NoNewPrivileges=yes$/m.test(unitText())).toBe(true);
  const r = Bun.spawnSync(["/usr/bin/setpriv", `--bounding-set=-all,${caps.join(",")}`, "--inh-caps=-all", "--no-new-privs", "/usr/sbin/sendmail", "-i", "root"], {
    stdin: new TextEncoder().encode("Subject: integrityd unit test\n\nunder the unit's hardening\n"), stdout: "pipe", stderr: "pipe",
  });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
});
