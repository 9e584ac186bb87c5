// Helpers for the rule engine's tests: a classifier built straight from an
// in-memory tree (the pure core, no loading), a report of some lines, and a
// verdict as its section titles.

import type { Level } from "../../src/config/config.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RuleCacheStore, SealedEntry } from "../../src/rules/cache.ts";
import { type RuleTree, selectRules } from "../../src/rules/home.ts";
import { Classifier, type Verdict } from "../../src/rules/layers.ts";
import { ReportBuilder } from "../../src/rules/report.ts";

/** Compile a tree at a level now (what loadRuleSet does in slices). */
export function classifierOf(tree: RuleTree, level: Level, crackingIgnore = false): Classifier {
  return new Classifier(selectRules(tree, level, crackingIgnore));
}

/** The section titles of a verdict, in order. */
export function titles(v: Verdict): string[] {
  return v.map((p) => p.section);
}

/** logcheck's report of these lines as section title -> lines. */
export function reportOf(c: Classifier, lines: string[]): ReportBuilder {
  const rep = new ReportBuilder(c.sectionTitles());
  for (const l of lines) rep.add(l, c.classify(l));
  return rep;
}

/** A rule home on disk made from a tree ("dir/name" -> content, bytes as latin1), under `root`. */
export function makeHomeIn(root: string, name: string, tree: RuleTree): string {
  const home = join(root, name);
  for (const [rel, content] of Object.entries(tree)) {
    const p = join(home, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, Buffer.from(content, "latin1"));
  }
  return home;
}

/** A compiled-rules cache in memory that counts its traffic. */
export function memoryCache(): RuleCacheStore & { map: Map<string, SealedEntry>; puts: number } {
  const map = new Map<string, SealedEntry>();
  const c = {
    where: "memory", map, puts: 0,
    get: (k: string) => map.get(k) ?? null,
    put: (k: string, sum: string, value: Uint8Array) => { c.puts++; map.set(k, { sum, value }); },
  };
  return c;
}
