// The tailer's view of the rule engine: load a rule tree, classify one line.
//
// PROVISIONAL: until the real engine (src/logs/rules.ts, classify.ts) lands,
// this file carries a small stand-in with logcheck's section semantics and
// plain JS RegExp (no POSIX translation). Only this file changes when the
// real engine is wired in; the tailer depends on nothing else.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Level } from "../config/config.ts";

export type VerdictKind = "alert" | "violation" | "system" | "ignored";

export interface Verdict {
  kind: VerdictKind;
  /** report section title, e.g. "Security Alerts for sshd", "Security Events", "System Events" */
  section: string;
}

export interface Classifier {
  /** line: latin1 string (one char per byte), without the newline */
  classify(line: string): Verdict;
}

export type RuleSource = { home: string } | { tree: Record<string, string> };

const LEVEL_DIRS: Record<Level, string[]> = {
  paranoid: ["ignore.d.paranoid"],
  server: ["ignore.d.server", "ignore.d.paranoid"],
  workstation: ["ignore.d.workstation", "ignore.d.server", "ignore.d.paranoid"],
};
const RUN_PARTS_NAME = /^[A-Za-z0-9_-]+$/;

type Rule = { re: RegExp; where: string };

function listFiles(src: RuleSource, dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if ("tree" in src) {
    for (const [k, v] of Object.entries(src.tree)) {
      const i = k.indexOf("/");
      if (i < 0 || k.slice(0, i) !== dir) continue;
      const name = k.slice(i + 1);
      if (RUN_PARTS_NAME.test(name)) out.set(name, v);
    }
  } else {
    let names: string[] = [];
    try {
      names = readdirSync(join(src.home, dir));
    } catch {
      return out;
    }
    for (const n of names.sort()) {
      if (!RUN_PARTS_NAME.test(n)) continue;
      try {
        out.set(n, readFileSync(join(src.home, dir, n), "latin1"));
      } catch {
        /* unreadable or a directory: skipped */
      }
    }
  }
  return out;
}

function compile(text: string, where: string, problems: string[]): Rule[] {
  const rules: Rule[] = [];
  text.split("\n").forEach((l, i) => {
    if (l.startsWith("#") || l.trim() === "") return;
    try {
      rules.push({ re: new RegExp(l), where: `${where}:${i + 1}` });
    } catch (e) {
      problems.push(`${where}:${i + 1}: invalid rule skipped (${(e as Error).message})`);
    }
  });
  return rules;
}

export function loadRuleEngine(src: RuleSource, level: Level, crackingignore: boolean): { classifier: Classifier; problems: string[] } {
  const problems: string[] = [];
  const label = (dir: string, f: string) => ("home" in src ? join(src.home, dir, f) : `${dir}/${f}`);
  const group = (dir: string) => {
    const m = new Map<string, Rule[]>();
    for (const [f, t] of listFiles(src, dir)) m.set(f, compile(t, label(dir, f), problems));
    return m;
  };
  const cracking = group("cracking.d");
  const crackIgnore = crackingignore ? [...group("cracking.ignore.d").values()].flat() : [];
  const violations = group("violations.d");
  const violIgnore = group("violations.ignore.d");
  const ignore: Rule[] = [];
  for (const d of LEVEL_DIRS[level]) for (const r of group(d).values()) ignore.push(...r);
  const any = (rs: Rule[], s: string) => rs.some((r) => r.re.test(s));
  const localIgnores = [...violIgnore].filter(([f]) => f === "local" || f.startsWith("local-")).flatMap(([, r]) => r);

  return {
    problems,
    classifier: {
      classify(raw: string): Verdict {
        const line = raw.replace(/[ \t\n\v\f\r]+$/, "");
        let special = false;
        for (const [f, rs] of cracking) {
          if (!any(rs, line)) continue;
          special = true;
          if (any(crackIgnore, line)) continue;
          return { kind: "alert", section: f === "logcheck" ? "Security Alerts" : `Security Alerts for ${f}` };
        }
        for (const [f, rs] of violations) {
          if (!any(rs, line)) continue;
          special = true;
          const ign = [...(violIgnore.get(f) ?? []), ...(violIgnore.get(`logcheck-${f}`) ?? []), ...localIgnores];
          if (!any(ign, line)) return { kind: "violation", section: "Security Events" };
        }
        if (special || any(ignore, line)) return { kind: "ignored", section: "" };
        return { kind: "system", section: "System Events" };
      },
    },
  };
}
