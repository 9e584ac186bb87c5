// `make install` into a DESTDIR: binary, config only if absent (0600), systemd unit.
import { expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureBinary, tempDir } from "../support/binary.ts";

test("make install honours DESTDIR and PREFIX and keeps an existing config", () => {
  ensureBinary();
  const { dir, cleanup } = tempDir("integrityd-install-");
  try {
    const make = (extra: string[]) =>
      Bun.spawnSync(["make", "-s", "--no-print-directory", "install", `DESTDIR=${dir}`, "PREFIX=/opt/ids", ...extra], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const r = make([]);
    expect(r.exitCode).toBe(0);
    const bin = join(dir, "opt/ids/sbin/integrityd");
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    const conf = join(dir, "etc/integrityd.conf");
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(readFileSync(conf, "utf8")).toBe(readFileSync(join(ROOT, "etc/integrityd.conf"), "utf8"));
    const unit = readFileSync(join(dir, "etc/systemd/system/integrityd.service"), "utf8");
    expect(unit).toContain("ExecStart=/opt/ids/sbin/integrityd\n");
    expect(unit).not.toContain("@SBINDIR@");

    writeFileSync(conf, "email = none\n");
    const again = make([]);
    expect(again.exitCode).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe("email = none\n");
    expect(again.stdout.toString()).toContain("keeping existing");
  } finally {
    cleanup();
  }
});
