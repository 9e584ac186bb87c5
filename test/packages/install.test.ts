// --install writes the apt hook where apt reads it, in apt's own syntax
// (checked by apt-config itself); --uninstall removes it.
import { expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, ensureBinary, tempDir } from "../support/binary.ts";

test("--install puts the Pre-Install-Pkgs hook (protocol 3) in apt.conf.d; apt parses it; --uninstall removes it", () => {
  ensureBinary();
  const { dir, cleanup } = tempDir("integrityd-hook-install-");
  try {
    chmodSync(dir, 0o755);
    const r = Bun.spawnSync([BIN, "--install", "--root", dir], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    const hook = join(dir, "etc/apt/apt.conf.d/80integrityd");
    expect(readFileSync(hook, "utf8")).toContain(`"${BIN} --apt-hook"`);
    if (existsSync("/usr/bin/apt-config")) {
      const dump = Bun.spawnSync(["apt-config", "-c", hook, "dump"], { stdout: "pipe", env: { PATH: "/usr/bin:/bin", APT_CONFIG: "/dev/null" } }).stdout.toString();
      expect(dump).toContain(`DPkg::Pre-Install-Pkgs:: "${BIN} --apt-hook";`);
      expect(dump).toContain(`DPkg::Tools::Options::${BIN}::Version "3";`);
    } else console.log("apt-config missing: the hook's syntax is not checked by apt");
    expect(Bun.spawnSync([BIN, "--uninstall", "--root", dir]).exitCode).toBe(0);
    expect(existsSync(hook)).toBe(false);
  } finally {
    cleanup();
  }
});

test("the hook never makes apt fail: no database, bad input, a missing .deb", () => {
  ensureBinary();
  const { dir, cleanup } = tempDir("integrityd-hook-fail-");
  try {
    const conf = join(dir, "c.conf");
    Bun.write(conf, `database = ${join(dir, "missing.sqlite")}\nemail = none\n`);
    const run = (stdin: string) => Bun.spawnSync([BIN, "--apt-hook", "--config", conf], { stdin: new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
    const noDb = run("VERSION 3\nDir=/\n\npkg - - none < 1.0 all none /nonexistent/pkg_1.0_all.deb\n");
    expect(noDb.exitCode).toBe(0);
    expect(noDb.stderr.toString()).toContain("package evidence not captured");
    const garbage = run("\x00\x01 not the protocol\n");
    expect(garbage.exitCode).toBe(0);
    expect(garbage.stderr.toString()).toContain("not apt's hook protocol");
    expect(run("").exitCode).toBe(0);
  } finally {
    cleanup();
  }
});
