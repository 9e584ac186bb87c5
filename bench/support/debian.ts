// Debian packages as test data: `apt-get download` into the git-ignored
// .cache/ dir and `dpkg -x` there (nothing is installed on the system). Runs
// `apt-get update` once when the package lists are missing. Throws with a
// clear message when it cannot be done: a test that needs the real data must
// fail, not skip.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..", "..");
export const CACHE_ROOT = join(REPO_ROOT, ".cache");

function run(cmd: string[], cwd: string): { ok: boolean; out: string } {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  return { ok: p.exitCode === 0, out: p.stdout.toString() + p.stderr.toString() };
}

/**
 * The packages' files extracted under .cache/NAME/root (done once; `ready`
 * says whether an earlier extraction is complete). Returns the root and the
 * downloaded .deb file names.
 */
export function extractDebs(name: string, pkgs: readonly string[], ready: (root: string) => boolean): { root: string; debs: string[] } {
  const dir = join(CACHE_ROOT, name);
  const root = join(dir, "root");
  const debsDir = join(dir, "debs");
  const debs = () => (existsSync(debsDir) ? readdirSync(debsDir).filter((f) => f.endsWith(".deb")) : []);
  if (ready(root) && existsSync(join(dir, "complete"))) return { root, debs: debs() };
  mkdirSync(debsDir, { recursive: true });
  let dl = run(["apt-get", "download", ...pkgs], debsDir);
  if (!dl.ok) {
    const upd = run(["apt-get", "update"], debsDir);
    dl = run(["apt-get", "download", ...pkgs], debsDir);
    if (!dl.ok) {
      throw new Error(
        `cannot obtain Debian's ${pkgs.join(", ")} (test data): \`apt-get download ${pkgs.join(" ")}\` failed` +
          (upd.ok ? "" : " and `apt-get update` failed too") +
          `:\n${dl.out}\nFix network/apt access (CI must run \`apt-get update\`) and re-run.`,
      );
    }
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const f of debs()) {
    const x = run(["dpkg", "-x", join(debsDir, f), root], debsDir);
    if (!x.ok) throw new Error(`dpkg -x ${f} failed: ${x.out}`);
  }
  if (!ready(root)) throw new Error(`${pkgs.join(", ")} extracted, but the files expected in ${root} are missing`);
  writeFileSync(join(dir, "complete"), "");
  return { root, debs: debs() };
}
