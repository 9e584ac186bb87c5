// Reading a logcheck rule home, the way Debian's /usr/sbin/logcheck (1.4)
// prepares it before grepping:
//   - rule dirs: cracking.d, cracking.ignore.d, violations.d,
//     violations.ignore.d, ignore.d.{paranoid,server,workstation};
//   - file names as `run-parts --list` selects them: ^[A-Za-z0-9_-]+$, in C
//     (byte) order; anything else (foo.dpkg-old, foo~, .hidden) is skipped;
//   - lines starting with '#' and whitespace-only lines are dropped (logcheck
//     runs `grep -E -v '^[[:space:]]*$|^#'`); other lines are used verbatim,
//     trailing blanks included, exactly as `grep -f` would;
//   - levels stack (workstation = workstation+server+paranoid, server =
//     server+paranoid, paranoid = paranoid) and same-named files of several
//     level dirs are merged into one, in that level order;
//   - cracking.ignore.d is only read when cracking-ignore support is on.
// A rule home is either a real directory or an in-memory map of
// "dir/name" -> content (the daemon's embedded default tree). Content is
// read as bytes (latin1), so any byte sequence is a valid rule file.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Level } from "../config/config.ts";

/** The rule directories of a rule home (a change in any of them reloads the set: reload.ts). */
export const RULE_DIRS = [
  "cracking.d",
  "cracking.ignore.d",
  "violations.d",
  "violations.ignore.d",
  "ignore.d.paranoid",
  "ignore.d.server",
  "ignore.d.workstation",
] as const;

export interface RuleProblem {
  file: string; // path relative to the rule home, e.g. "ignore.d.server/ssh"
  line: number; // 1-based, 0 when the problem concerns the whole file
  message: string;
}

export interface RuleLine {
  file: string; // relative path of the file the line comes from
  line: number;
  source: string; // the pattern, verbatim
}

export interface RuleFile {
  name: string; // file name (as logcheck's section title uses it)
  rules: RuleLine[];
}

export interface RuleSet {
  cracking: RuleFile[];
  crackingIgnore: RuleFile[];
  violations: RuleFile[];
  violationsIgnore: RuleFile[];
  ignore: RuleFile[]; // level ignore files, merged by name
  level: Level;
  crackingIgnoreEnabled: boolean;
  problems: RuleProblem[];
}

/** A rule home as relative path -> file content (latin1 string). */
export type RuleTree = Record<string, string>;

export const RUN_PARTS_NAME = /^[A-Za-z0-9_-]+$/;

export function levelDirs(level: Level): string[] {
  if (level === "workstation") return ["ignore.d.workstation", "ignore.d.server", "ignore.d.paranoid"];
  if (level === "server") return ["ignore.d.server", "ignore.d.paranoid"];
  return ["ignore.d.paranoid"];
}

function cOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0; // names are ASCII: code unit order is byte order
}

/**
 * Read the rule dirs of a rule home into a RuleTree. Returns null when the
 * home does not exist or is not a directory. Unreadable files become
 * problems (logcheck reports them too) instead of aborting.
 */
export function readRuleHome(home: string, problems: RuleProblem[] = []): RuleTree | null {
  try {
    if (!statSync(home).isDirectory()) return null;
  } catch {
    return null;
  }
  const tree: RuleTree = {};
  for (const dir of RULE_DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(home, dir));
    } catch {
      continue; // missing dir: no rules of that kind
    }
    for (const name of names) {
      if (!RUN_PARTS_NAME.test(name)) continue;
      const p = join(home, dir, name);
      try {
        if (!statSync(p).isFile()) continue;
        tree[`${dir}/${name}`] = readFileSync(p).toString("latin1");
      } catch (e) {
        problems.push({ file: `${dir}/${name}`, line: 0, message: `cannot read: ${(e as Error).message}` });
      }
    }
  }
  return tree;
}

/** Rule lines of one file after logcheck's cleaning. */
export function cleanRuleLines(file: string, content: string): RuleLine[] {
  const out: RuleLine[] = [];
  const lines = content.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("#")) continue;
    if (/^[ \t\n\v\f\r]*$/.test(l)) continue;
    out.push({ file, line: i + 1, source: l });
  }
  return out;
}

function filesOf(tree: RuleTree, dir: string): Array<{ name: string; path: string }> {
  const out: Array<{ name: string; path: string }> = [];
  const prefix = dir + "/";
  for (const key of Object.keys(tree)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if (!RUN_PARTS_NAME.test(name)) continue;
    out.push({ name, path: key });
  }
  out.sort((a, b) => cOrder(a.name, b.name));
  return out;
}

function loadDir(tree: RuleTree, dir: string): RuleFile[] {
  return filesOf(tree, dir).map(({ name, path }) => ({ name, rules: cleanRuleLines(path, tree[path] ?? "") }));
}

/** Select and clean the rule files for a level (no regex compilation yet). */
export function selectRules(tree: RuleTree, level: Level, crackingIgnore: boolean): RuleSet {
  const ignoreByName = new Map<string, RuleFile>();
  for (const dir of levelDirs(level)) {
    for (const f of loadDir(tree, dir)) {
      const have = ignoreByName.get(f.name);
      if (have) have.rules.push(...f.rules);
      else ignoreByName.set(f.name, { name: f.name, rules: [...f.rules] });
    }
  }
  const ignore = [...ignoreByName.values()].sort((a, b) => cOrder(a.name, b.name));
  return {
    cracking: loadDir(tree, "cracking.d"),
    crackingIgnore: crackingIgnore ? loadDir(tree, "cracking.ignore.d") : [],
    violations: loadDir(tree, "violations.d"),
    violationsIgnore: loadDir(tree, "violations.ignore.d"),
    ignore,
    level,
    crackingIgnoreEnabled: crackingIgnore,
    problems: [],
  };
}
