// The real compiled binary for end-to-end tests (`make test` builds it first).
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..", "..");
export const BIN = join(ROOT, "dist", "integrityd");

export function ensureBinary(): void {
  if (existsSync(BIN)) return;
  const r = Bun.spawnSync([process.execPath, "build.ts"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("building dist/integrityd failed");
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the binary to completion with an argument array (never a shell). */
export function run(args: string[], opts: { cwd?: string; stdin?: string | Uint8Array; env?: Record<string, string>; bin?: string } = {}): RunResult {
  ensureBinary();
  const r = Bun.spawnSync([opts.bin ?? BIN, ...args], {
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env },
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A fresh temp directory, removed by the returned cleanup function. */
export function tempDir(prefix = "integrityd-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write a 0600 config file into dir and return its path. */
export function writeConfig(dir: string, text: string, name = "integrityd.conf"): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  chmodSync(p, 0o600);
  return p;
}
