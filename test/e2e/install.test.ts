// Installing: `make install` into a DESTDIR, and `--install` from the binary alone.
import { expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BIN, ROOT, ensureBinary, tempDir } from "../support/binary.ts";

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
    expect(readFileSync(join(dir, "opt/ids/share/man/man8/integrityd.8"), "utf8")).toStartWith(".TH INTEGRITYD 8");
    expect(statSync(join(dir, "opt/ids/share/bash-completion/completions/integrityd")).mode & 0o777).toBe(0o644);

    writeFileSync(conf, "email = none\n");
    const again = make([]);
    expect(again.exitCode).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe("email = none\n");
    expect(again.stdout.toString()).toContain("keeping existing");
  } finally {
    cleanup();
  }
});

test("--install from the binary alone: unit, example config, database; idempotent; --uninstall keeps the history unless --purge", () => {
  ensureBinary();
  const { dir, cleanup } = tempDir("integrityd-self-install-");
  try {
    chmodSync(dir, 0o755);
    const first = Bun.spawnSync([BIN, "--install", "--root", dir], { stdout: "pipe", stderr: "pipe" });
    expect(first.exitCode).toBe(0);
    const unit = readFileSync(join(dir, "etc/systemd/system/integrityd.service"), "utf8");
    expect(unit).toContain(`ExecStart=${BIN}\n`);
    expect(unit).toContain(`ExecStartPre=${BIN} --check-config --quiet\n`);
    const conf = join(dir, "etc/integrityd.conf");
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(readFileSync(conf, "utf8")).toBe(readFileSync(join(ROOT, "etc/integrityd.conf"), "utf8"));
    const db = join(dir, "var/lib/integrityd/integrityd.sqlite");
    expect(statSync(db).mode & 0o777).toBe(0o600);
    expect(first.stdout.toString()).toContain("systemctl enable --now integrityd");
    const share = join(dir, dirname(dirname(BIN)), "share");
    expect(readFileSync(join(share, "man/man8/integrityd.8"), "utf8")).toStartWith(".TH INTEGRITYD 8");
    expect(readFileSync(join(share, "bash-completion/completions/integrityd"), "utf8")).toContain("complete -F _integrityd integrityd");

    writeFileSync(conf, readFileSync(conf, "utf8") + "# edited by the admin\n", { mode: 0o600 });
    const again = Bun.spawnSync([BIN, "--install", "--root", dir], { stdout: "pipe", stderr: "pipe" });
    expect(again.exitCode).toBe(0);
    expect(again.stdout.toString()).toContain("up to date");
    expect(readFileSync(conf, "utf8")).toContain("# edited by the admin");

    const un = Bun.spawnSync([BIN, "--uninstall", "--root", dir], { stdout: "pipe", stderr: "pipe" });
    expect(un.exitCode).toBe(0);
    expect(existsSync(join(dir, "etc/systemd/system/integrityd.service"))).toBe(false);
    expect(existsSync(join(dir, dirname(dirname(BIN)), "share/man/man8/integrityd.8"))).toBe(false);
    expect(existsSync(conf)).toBe(true);
    expect(existsSync(db)).toBe(true);
    expect(Bun.spawnSync([BIN, "--uninstall", "--purge", "--root", dir]).exitCode).toBe(0);
    expect(existsSync(conf)).toBe(false);
    expect(existsSync(db)).toBe(false);
  } finally {
    cleanup();
  }
});

test("--print-unit names this binary", () => {
  const r = Bun.spawnSync([BIN, "--print-unit"], { stdout: "pipe" });
  expect(r.exitCode).toBe(0);
  expect(r.stdout.toString()).toContain(`ExecStart=${BIN}\n`);
  expect(r.stdout.toString()).not.toContain("@SBINDIR@");
});
