// The daemon's loaded rule sets: one per distinct (rules home, level,
// crackingignore), loaded through loadRuleSet (load.ts), rescanned every
// `logruleupdate` seconds and reloaded when a rule file changed (signature:
// name, size, mtime, inode of every entry of the rule directories); the old
// set keeps classifying until the new one is ready. A rules home that does
// not exist falls back to the embedded default tree (`embedded`). Rule
// problems are kept per rule set; the tailer reports each distinct problem once.
// Compiled sets are kept in the cache given (the daemon's database, cache.ts);
// a set not in it is compiled by the compiler given (a child process, child.ts).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Level } from "../config/config.ts";
import { RULE_DIRS } from "./home.ts";
import type { Classifier } from "./layers.ts";
import type { RuleCacheStore } from "./cache.ts";
import type { ChildCompiler } from "./child.ts";
import { BUILTIN, loadRuleSet } from "./load.ts";
import { noteRuleLoad } from "../report/ruleloads.ts";
import { trimAndSay } from "../util/trim.ts";

export interface RuleSetKey {
  home: string;
  level: Level;
  crackingignore: boolean;
}

export interface LoadedRuleSet {
  key: string;
  home: string;
  level: Level;
  crackingignore: boolean;
  classifier: Classifier;
  /** true when the home does not exist and the embedded default tree is used */
  embedded: boolean;
  /** what the admin must be told once about where the rules come from, or null */
  note: string | null;
  signature: string;
  /** human-readable problems ("FILE:LINE: message"), each reported once by the tailer */
  problems: string[];
  /** rules on a slower engine (linear-time or back-reference fallback); not logged one by one */
  risky: string[];
  /** one line for the log: rules, how many on the linear-time matcher, load time, memory (load.ts) */
  summary: string;
  loadedAt: number;
}

export function ruleSetKey(k: RuleSetKey): string {
  return `${k.level}\0${k.crackingignore ? 1 : 0}\0${k.home}`;
}

/**
 * A cheap signature of a rules home: every entry of every rule directory with
 * its size, mtime and inode. "missing" when the home is not a directory.
 */
export function rulesSignature(home: string): string {
  if (home === BUILTIN) return BUILTIN;
  try {
    if (!statSync(home).isDirectory()) return "missing";
  } catch {
    return "missing";
  }
  const parts: string[] = [];
  for (const d of RULE_DIRS) {
    const dir = join(home, d);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      parts.push(`${d}:-`);
      continue;
    }
    parts.push(`${d}:`);
    for (const n of names) {
      try {
        const st = statSync(join(dir, n));
        parts.push(`${n}\0${st.size}\0${st.mtimeMs}\0${st.ino}`);
      } catch {
        parts.push(`${n}\0?`);
      }
    }
  }
  return parts.join("\n");
}

/** Load (or reload) one rule set without blocking the event loop. Never throws: see loadRuleSet. */
export async function loadKeyedRuleSet(k: RuleSetKey, cache: RuleCacheStore | null = null, compiler: ChildCompiler | null = null): Promise<LoadedRuleSet> {
  let signature = rulesSignature(k.home);
  const t0 = performance.now();
  const r = await loadRuleSet({ home: k.home }, k.level, { crackingIgnore: k.crackingignore, cache, compiler });
  noteRuleLoad({ home: k.home, level: k.level, rules: r.classifier.rules.length, seconds: (performance.now() - t0) / 1000 });
  const problems = [...r.problems];
  if (r.homeError !== null) problems.unshift(`${k.home}: rules could not be loaded (${r.homeError}); using the embedded default rules`);
  if (r.homeMissing) signature = "missing"; // also when removed between the signature and the load
  return {
    key: ruleSetKey(k), home: k.home, level: k.level, crackingignore: k.crackingignore,
    classifier: r.classifier, embedded: r.homeMissing, signature, problems, risky: r.risky, loadedAt: Date.now(),
    summary: r.cacheNotice === null ? r.summary : `${r.summary} (${r.cacheNotice})`,
    note: r.homeMissing ? `rules home ${k.home} does not exist; using the embedded default rules`
      : r.layered ? `rules home ${k.home} has no cracking.d or violations.d rules; the embedded default rules are layered under it (its own files win), so break-in attempts and violations still raise alerts`
      : null,
  };
}

/** The loaded rule sets of the running daemon. */
export class RuleSets {
  private sets = new Map<string, LoadedRuleSet>();

  /** `cache`: where compiled rule sets are kept (the daemon's database; cache.ts); `compiler`: where a set not in it is compiled (child.ts) */
  constructor(private readonly cache: RuleCacheStore | null = null, private readonly compiler: ChildCompiler | null = null) {}

  /** The rule set for k; ensure(k) must have loaded it (the tailer awaits that before reading a log). */
  get(k: RuleSetKey): LoadedRuleSet {
    const s = this.sets.get(ruleSetKey(k));
    if (!s) throw new Error(`rule set ${ruleSetKey(k)} used before it was loaded`);
    return s;
  }

  private loading = new Map<string, Promise<LoadedRuleSet>>();

  /** Load the rule set for k without blocking the event loop (once; concurrent calls share the load). */
  async ensure(k: RuleSetKey): Promise<LoadedRuleSet> {
    const key = ruleSetKey(k);
    const have = this.sets.get(key);
    if (have) return have;
    let p = this.loading.get(key);
    if (!p) {
      p = loadKeyedRuleSet(k, this.cache, this.compiler).then((s) => {
        this.sets.set(key, s);
        this.loading.delete(key);
        return s;
      });
      this.loading.set(key, p);
    }
    return p;
  }

  /** Rescan every loaded set and reload those whose files changed; the old set keeps classifying until the new one is ready. */
  async refresh(): Promise<LoadedRuleSet[]> {
    const out: LoadedRuleSet[] = [];
    for (const [key, s] of [...this.sets]) {
      if (rulesSignature(s.home) === s.signature) continue;
      const n = await loadKeyedRuleSet(s, this.cache, this.compiler);
      if (this.sets.get(key) !== s) continue; // dropped or replaced meanwhile
      this.sets.set(key, n);
      out.push(n);
    }
    if (out.length > 0) trimAndSay("rule reload"); // the load's own code pages (util/trim.ts)
    return out;
  }

  /** Forget rule sets no longer used by any log. */
  retain(keys: Set<string>): void {
    for (const k of [...this.sets.keys()]) if (!keys.has(k)) this.sets.delete(k);
  }

  all(): LoadedRuleSet[] {
    return [...this.sets.values()];
  }
}
