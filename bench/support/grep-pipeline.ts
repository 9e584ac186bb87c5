// The reference: logcheck's own filtering pipeline (greplogoutput /
// cleanchecked / cleanrules of /usr/sbin/logcheck 1.4) re-enacted step by
// step with the real tools it uses - `run-parts --list`, `sed` and
// `grep -E --text [-v] -f FILE` - so expectations never come from our code.
// Differences from the script: no sort of the input (sections therefore keep
// input order, like ours), no mail, no lock files.

import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

const ENV = { ...process.env, LC_ALL: "C" };

function sh(cmd: string[], stdoutFile?: string): Buffer {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", env: ENV });
  if (p.exitCode !== 0 && p.exitCode !== 1) throw new Error(`${cmd.join(" ")} failed (${p.exitCode}): ${p.stderr.toString()}`);
  if (cmd[0] === "run-parts" && p.exitCode !== 0) throw new Error(`run-parts failed: ${p.stderr.toString()}`);
  if (stdoutFile) writeFileSync(stdoutFile, p.stdout);
  return p.stdout;
}

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}
function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}
function nonEmpty(p: string): boolean {
  try { return statSync(p).size > 0; } catch { return false; }
}
function globSorted(dir: string): string[] {
  if (!isDir(dir)) return [];
  return readdirSync(dir).filter((n) => !n.startsWith(".")).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => join(dir, n));
}

export interface PipelineOptions {
  home: string;
  level: "paranoid" | "server" | "workstation";
  input: string; // file of log lines
  crackingIgnore?: boolean;
}

/** Section title -> lines, in report order, as logcheck's grep pipeline computes them. */
export function grepPipeline(o: PipelineOptions): Array<[string, string[]]> {
  const tmp = mkdtempSync(join(tmpdir(), "logcheck-ref-"));
  try {
    return runPipeline(o, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function runPipeline(o: PipelineOptions, T: string): Array<[string, string[]]> {
  const report: Array<[string, string[]]> = [];
  const cleanrules = (dir: string, cleaned: string) => {
    if (!isDir(dir)) return;
    mkdirSync(cleaned, { recursive: true });
    const list = sh(["run-parts", "--list", dir]).toString("latin1").split("\n").filter(Boolean);
    for (const full of list) {
      const name = basename(full);
      if (!isFile(join(dir, name))) continue;
      const out = sh(["grep", "-E", "--text", "-v", "^[[:space:]]*$|^#", join(dir, name)]);
      appendFileSync(join(cleaned, name), out);
    }
  };
  cleanrules(join(o.home, "cracking.d"), join(T, "cracking"));
  cleanrules(join(o.home, "violations.d"), join(T, "violations"));
  cleanrules(join(o.home, "violations.ignore.d"), join(T, "violations-ignore"));
  const levels = o.level === "workstation" ? ["workstation", "server", "paranoid"] : o.level === "server" ? ["server", "paranoid"] : ["paranoid"];
  for (const l of levels) cleanrules(join(o.home, `ignore.d.${l}`), join(T, "ignore"));
  if (o.crackingIgnore) cleanrules(join(o.home, "cracking.ignore.d"), join(T, "cracking-ignore"));

  const sorted = join(T, "logoutput-sorted");
  sh(["sed", "-e", "s/[[:space:]]\\+$//", o.input], sorted);
  const checked = join(T, "checked");

  const cleanchecked = (clean: string) => {
    if (isFile(clean)) {
      sh(["grep", "-E", "--text", "-v", "-f", clean, checked], join(T, "checked.1"));
      renameSync(join(T, "checked.1"), checked);
    } else if (isDir(clean)) {
      for (const f of globSorted(clean)) cleanchecked(f);
    } else {
      throw new Error(`cleanchecked: not a file or a directory ${clean}`);
    }
  };
  const doReport = (title: string): boolean => {
    if (!nonEmpty(checked)) return false;
    const lines = readFileSync(checked).toString("latin1").split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    report.push([title, lines]);
    return true;
  };
  const greplogoutput = (raise: string, section: string, ignore: string | null, higher: string | null): boolean => {
    let ret = false;
    for (const grepfile of globSorted(raise)) {
      sh(["grep", "-E", "--text", "-f", grepfile, sorted], checked);
      if (!nonEmpty(checked)) continue;
      const b = basename(grepfile);
      if (ignore && isFile(join(ignore, b))) cleanchecked(join(ignore, b));
      if (ignore && isFile(join(ignore, "logcheck-" + b))) cleanchecked(join(ignore, "logcheck-" + b));
      if (b === "logcheck") {
        if (ignore) for (const _ of globSorted(ignore)) if (nonEmpty(checked)) cleanchecked(ignore);
        for (const f of globSorted(raise)) {
          if (nonEmpty(checked) && !/^logchec/.test(basename(f))) cleanchecked(f);
        }
      }
      if (higher && isDir(higher) && nonEmpty(checked)) cleanchecked(higher);
      if (ignore) {
        if (isFile(join(ignore, "local")) && nonEmpty(checked)) cleanchecked(join(ignore, "local"));
        for (const f of globSorted(ignore)) if (/^local-/.test(basename(f)) && isFile(f) && nonEmpty(checked)) cleanchecked(f);
      }
      if (doReport(b === "logcheck" ? section : `${section} for ${b}`)) ret = true;
    }
    return ret;
  };
  let attack = false;
  if (isDir(join(T, "cracking"))) {
    if (o.crackingIgnore) {
      if (isDir(join(T, "cracking-ignore"))) attack = greplogoutput(join(T, "cracking"), "Security Alerts", join(T, "cracking-ignore"), null);
    } else {
      attack = greplogoutput(join(T, "cracking"), "Security Alerts", null, null);
    }
  }
  if (isDir(join(T, "violations"))) {
    rmSync(checked, { force: true });
    greplogoutput(join(T, "violations"), "Security Events", join(T, "violations-ignore"), attack ? join(T, "cracking") : null);
  }
  copyFileSync(sorted, checked);
  if (isDir(join(T, "ignore"))) cleanchecked(join(T, "ignore"));
  if (nonEmpty(checked) && isDir(join(T, "cracking"))) cleanchecked(join(T, "cracking"));
  if (nonEmpty(checked) && isDir(join(T, "violations"))) cleanchecked(join(T, "violations"));
  doReport("System Events");
  void existsSync;
  return report;
}

/**
 * Line numbers (1-based) of `linesFile` that `grep -E --text` matches with
 * the single pattern `pattern` (written to a pattern file, so any byte is
 * safe). Returns null when grep rejects the pattern (exit status 2).
 */
export async function grepLines(pattern: string, linesFile: string, tmp: string, tag: string): Promise<{ lines: Set<number> | null; stderr: string }> {
  const pf = join(tmp, `pat-${tag}`);
  writeFileSync(pf, Buffer.from(pattern + "\n", "latin1"));
  const p = Bun.spawn(["grep", "-E", "--text", "-n", "-f", pf, linesFile], { stdout: "pipe", stderr: "pipe", env: ENV });
  const [out, err] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text()]);
  const code = await p.exited;
  if (code === 2) return { lines: null, stderr: err };
  const set = new Set<number>();
  const text = Buffer.from(out).toString("latin1");
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(":", i);
    if (colon < 0) break;
    set.add(Number(text.slice(i, colon)));
    const nl = text.indexOf("\n", colon);
    i = nl < 0 ? text.length : nl + 1;
  }
  return { lines: set, stderr: err };
}

/** Write lines (byte strings) one per line. */
export function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, Buffer.from(lines.join("\n") + "\n", "latin1"));
}
