// The tailer's view of the rule engine (src/logs/classify.ts): load a rule
// tree, classify one line into the report sections it belongs to.
import type { Level } from "../config/config.ts";
import { ALERTS, Classifier as RuleClassifier, EVENTS, SYSTEM } from "./classify.ts";
import { type RuleProblem, type RuleTree, readRuleHome, selectRules } from "./rules.ts";

export type VerdictKind = "alert" | "violation" | "system";

export interface Placement {
  kind: VerdictKind;
  /** report section title, e.g. "Security Alerts for sshd", "Security Events", "System Events" */
  section: string;
}

/** Where a line goes: nowhere (ignored), or one or more sections (as logcheck, a line may be in several). */
export type Verdict = Placement[];

export interface Classifier {
  /** line: latin1 string (one char per byte), without the newline */
  classify(line: string): Verdict;
}

export type RuleSource = { home: string } | { tree: RuleTree };

export interface EngineLoad {
  classifier: Classifier;
  problems: string[];
  /** rules not on the fast native engine ("FILE:LINE: note"), for the diagnostics */
  risky: string[];
  /** false when the home does not exist (the caller then loads the embedded tree) */
  found: boolean;
}

function kindOf(section: string): VerdictKind {
  if (section === SYSTEM) return "system";
  if (section.startsWith(ALERTS)) return "alert";
  if (section.startsWith(EVENTS)) return "violation";
  return "system";
}

function wrap(c: RuleClassifier): Classifier {
  return {
    classify(line: string): Verdict {
      return c.classify(line).sections.map((section) => ({ kind: kindOf(section), section }));
    },
  };
}

/**
 * Load a rule tree (a home directory or the embedded map). The rules are
 * compiled in 10 ms slices with the event loop free in between (Debian's
 * database takes 1-2 s to compile), at start and on every rule reload.
 */
export async function loadRuleEngine(src: RuleSource, level: Level, crackingignore: boolean): Promise<EngineLoad> {
  const prefix = "home" in src ? `${src.home}/` : "embedded:";
  const where = (p: RuleProblem) => `${prefix}${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}`;
  const readProblems: RuleProblem[] = [];
  const tree = "home" in src ? readRuleHome(src.home, readProblems) : src.tree;
  if (!tree) return { classifier: { classify: () => [] }, problems: [], risky: [], found: false };
  const set = selectRules(tree, level, crackingignore);
  set.problems.unshift(...readProblems);
  const c = new RuleClassifier(set, true);
  await c.finish(10);
  return {
    classifier: wrap(c),
    problems: c.problems.map(where),
    risky: c.riskyRules().map((r) => `${prefix}${r.where}: ${r.kind}: ${r.note}`),
    found: true,
  };
}
