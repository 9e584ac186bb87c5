// Fetch Debian's logcheck packages into the git-ignored .cache/ dir (no
// system install): `apt-get download` + `dpkg -x`. Returns the extracted
// rule home. Runs `apt-get update` once when the package lists are missing.
// Throws with a clear message when it really cannot be done: tests that need
// the real database must fail, not skip.

import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..", "..");
export const CACHE_DIR = join(REPO_ROOT, ".cache", "logcheck-db");

export interface LogcheckDb {
  /** the extracted /etc/logcheck (rule home) */
  rulesHome: string;
  /** the extracted /usr/sbin/logcheck script (the specification) */
  logcheckScript: string;
  /** Debian package version that was extracted */
  version: string;
}

function run(cmd: string[], cwd: string): { ok: boolean; out: string } {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  return { ok: p.exitCode === 0, out: p.stdout.toString() + p.stderr.toString() };
}

let cached: LogcheckDb | null = null;

export function getLogcheckDb(): LogcheckDb {
  if (cached) return cached;
  const root = join(CACHE_DIR, "root");
  const debs = join(CACHE_DIR, "debs");
  const home = join(root, "etc", "logcheck");
  const script = join(root, "usr", "sbin", "logcheck");
  const have = () => existsSync(join(home, "ignore.d.server")) && existsSync(script);
  if (!have()) {
    mkdirSync(debs, { recursive: true });
    const pkgs = ["logcheck-database", "logcheck"];
    let dl = run(["apt-get", "download", ...pkgs], debs);
    if (!dl.ok) {
      const upd = run(["apt-get", "update"], debs);
      dl = run(["apt-get", "download", ...pkgs], debs);
      if (!dl.ok) {
        throw new Error(
          "cannot obtain Debian's logcheck-database (needed for the conformance tests): " +
            "`apt-get download logcheck-database logcheck` failed" +
            (upd.ok ? "" : " and `apt-get update` failed too") +
            ":\n" + dl.out + "\nFix network/apt access (CI must run `apt-get update`) and re-run.",
        );
      }
    }
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    for (const f of readdirSync(debs)) {
      if (!f.endsWith(".deb")) continue;
      const x = run(["dpkg", "-x", join(debs, f), root], debs);
      if (!x.ok) throw new Error(`dpkg -x ${f} failed: ${x.out}`);
    }
    if (!have()) throw new Error(`logcheck-database extracted, but ${home} is incomplete`);
  }
  const ver = readdirSync(debs).find((f) => f.startsWith("logcheck-database_")) ?? "unknown";
  cached = { rulesHome: home, logcheckScript: script, version: ver.replace(/^logcheck-database_/, "").replace(/_all\.deb$/, "") };
  return cached;
}

/** ../shared/corpus/fail2ban-syslog.log next to the checkout, or null. */
export function sharedCorpus(): string | null {
  for (const base of [join(REPO_ROOT, "..", "shared"), join(REPO_ROOT, "..", "..", "shared")]) {
    const p = join(base, "corpus", "fail2ban-syslog.log");
    if (existsSync(p)) return p;
  }
  return null;
}
