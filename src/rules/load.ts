// Loading a rule set: the one way. loadRuleSet(source, level, options) reads
// a rule home (or takes an in-memory tree), selects the level's files
// (home.ts) and compiles them into a Classifier (layers.ts) in time slices,
// yielding to the event loop in between (Debian's server level takes about a
// second; the daemon must keep running meanwhile). Used by the daemon's
// rule sets (reload.ts), --test-rules (testrules.ts) and bench/logcheck.
// With `cache`, a rule set compiled before comes from the compiled-rules
// cache (cache.ts) instead; a damaged entry is `cacheNotice` and a compile.
//
// Where a load goes (Debian's logcheck-database 1.4.2, server level, 1,545
// rules, Bun 1.4.5 on a shared 2-core EPYC; CPU profile and RSS by phase):
//  - once: `--test-rules` of one line took 2.8 s CPU and 337 MiB peak RSS.
//    The dispatch index (dispatch.ts) was 2.4 s and ~235 MiB of it: a
//    build trie of 205,000 nodes with a Map each, 256-slot tables and a
//    fresh 256-byte set per literal byte on the compressed nodes, and paths
//    extended by copying (quadratic, paths.ts). Now a radix trie built
//    directly, sparse byte edges, shared sets, paths built once.
//  - cold now: ~1.5 s CPU, ~150 MiB peak for the one-line run: parse +
//    safety + JavaScript source per rule (~0.35 s, compile.ts), the index
//    (~0.55 s, mostly path expansion; flattening the trie keys each shared
//    byte set once), the snapshot for the cache (~0.25 s), garbage
//    collection, allocator pages the collector freed but the process keeps.
//    The daemon therefore compiles a big set in a child process (child.ts)
//    and only decodes its entry. The trie is walked as flat typed arrays
//    (trie.ts), not ~50,000 objects.
//  - warm: the compiled form is cached (cache.ts, snapshot.ts) keyed by the
//    engine's build and the selected rule files; a load with the same rules
//    reads ~0.4 MB (zstd) from the database and decodes it: no rule is parsed
//    again, NFAs are rebuilt only when their DFA first runs, native RegExps
//    only when a line first reaches their rule. One-line `--test-rules` with
//    the cache: ~0.25 s CPU for the whole process (the bare process is
//    ~0.08 s), ~68 MiB peak; measured on a busy machine (load average 3-7).
//    What is left of those ~0.15 s: decompressing (~4 MB out), the JSON
//    header (rule sources, ~0.7 MB), checking the trie, reading and
//    selecting the rule files and hashing them for the key. The daemon
//    with Debian's server rules from the cache rests at ~61 MiB RSS once it
//    has handed start-up's program pages back (util/trim.ts); with the 23
//    embedded rules at ~60 MiB: the rule set's own share is under 1 MiB
//    (bench/logcheck, "at rest").
//  - throughput (bench/logcheck, rules section): ~0.6-1M lines/s warm on
//    real lines; what would reach 1M lines/s steadily is in dispatch.ts.
//
// A home that exists but holds no cracking.d and no violations.d rules (on
// Debian, /etc/logcheck often holds a single file some package dropped) would
// silently turn every break-in line into a plain System Event: the embedded
// default rules are layered under it then (its own files win), and `layered`
// says so. The home BUILTIN ("builtin", `logrules = server:builtin`) is the
// embedded rules by choice.
//
// Contract: never throws. A home that does not exist, or that fails to load,
// falls back to the fallback tree (default: the embedded default rules of
// src/embedded.ts) and says why (homeMissing / homeError); if even that fails,
// the classifier has no rules and reports every line as a System Event.
// Problems and risky rules come as text, "PREFIX FILE:LINE: ...", PREFIX being
// the home with a "/" or "embedded:".

import type { Level } from "../config/config.ts";
import { embeddedRules } from "../embedded.ts";
import { yieldToLoop } from "../util/loop.ts";
import { type RuleProblem, type RuleSet, type RuleTree, readRuleHome, selectRules } from "./home.ts";
import { openEntry, type RuleCacheStore, ruleSetCacheKey, sealEntry } from "./cache.ts";
import type { ChildCompiler } from "./child.ts";
import { Classifier } from "./layers.ts";
import { decodeSnapshot, encodeSnapshot } from "./snapshot.ts";

/** A rule home directory, or a rule tree already in memory ("dir/name" -> content). */
export type RuleSource = { home: string } | { tree: RuleTree };

export interface LoadOptions {
  /** read cracking.ignore.d (logcheck's SUPPORT_CRACKING_IGNORE); default off */
  crackingIgnore?: boolean;
  /** used when a home is missing or fails to load; default: the embedded default rules */
  fallback?: RuleTree;
  /** longest stretch of compiling between two event-loop turns, in ms; default 10 */
  sliceMs?: number;
  /** where compiled rule sets are kept (cache.ts); none: always compile */
  cache?: RuleCacheStore | null;
  /** with a cache: compile a set that is not in it here (child.ts: a child process) instead of in this process */
  compiler?: ChildCompiler | null;
}

export interface LoadedRules {
  classifier: Classifier;
  /** where the rules come from: the home, the tree given, or the fallback tree */
  from: "home" | "tree" | "fallback";
  /** the home does not exist (from = "fallback") */
  homeMissing: boolean;
  /** the home has no cracking.d/violations.d rules: the embedded rules are layered under it */
  layered: boolean;
  /** why the home could not be loaded (from = "fallback"), or null */
  homeError: string | null;
  /** "HOME/" or "embedded:", prepended to FILE:LINE in problems, risky rules and explanations */
  prefix: string;
  /** "PREFIX FILE[:LINE]: message" for every rule or file that could not be used */
  problems: string[];
  /** "PREFIX FILE:LINE: kind: note" for every rule not on the fast native engine */
  risky: string[];
  /** one line about the whole set: rules, how many on the linear-time matcher, load time, RSS after the load, from the cache or not */
  summary: string;
  /** the compiled form came from the cache */
  cached: boolean;
  /** one line when a cache entry was found but not usable (damaged), or null */
  cacheNotice: string | null;
}

export const EMBEDDED_PREFIX = "embedded:";
/** `logrules = [LEVEL:]builtin`: the embedded default rules, by choice. */
export const BUILTIN = "builtin";

/** True when the tree holds a rule file in cracking.d or violations.d. */
function hasAlertRules(tree: RuleTree): boolean {
  return Object.keys(tree).some((k) => k.startsWith("cracking.d/") || k.startsWith("violations.d/"));
}

export function homePrefix(home: string): string {
  return home.replace(/\/+$/, "") + "/";
}

/** Rules from which a compile's garbage is collected at once, and a compile goes to a child process (a small set's is not worth either). */
const BIG_SET = 300;

/** How many rule lines a selected set has (what a compile's cost grows with). */
function ruleCount(set: RuleSet): number {
  let n = 0;
  for (const files of [set.cracking, set.crackingIgnore, set.violations, set.violationsIgnore, set.ignore]) for (const f of files) n += f.rules.length;
  return n;
}

/** A full, synchronous garbage collection (Bun's; a no-op elsewhere). */
export function collectGarbage(): void {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  bun?.gc(true);
}

/** Run a lazy classifier's build to the end, yielding to the event loop every `sliceMs`. */
async function compileInSlices(c: Classifier, sliceMs: number): Promise<void> {
  for (;;) {
    const t = performance.now();
    while (performance.now() - t < sliceMs) if (c.step()) return;
    await yieldToLoop();
  }
}

/** "1545 rules, 288 on the linear-time matcher, 3 with back-references; loaded in 0.41 s (CPU 0.52 s), RSS 71 MiB" */
export function ruleSetSummary(c: Classifier, wallMs: number, cpuMs: number, rssBytes: number): string {
  let linear = 0;
  let backref = 0;
  for (const r of c.rules) {
    if (r.kind === "linear") linear++;
    else if (r.kind === "backref") backref++;
  }
  return `${c.rules.length} rules, ${linear} on the linear-time matcher, ${backref} with back-references; loaded in ${(wallMs / 1000).toFixed(2)} s (CPU ${(cpuMs / 1000).toFixed(2)} s), RSS ${Math.round(rssBytes / 1048576)} MiB`;
}

/** The cached classifier for `key`, or null; `notice` when an entry was there but not usable. */
function fromCache(cache: RuleCacheStore, key: string): { c: Classifier | null; notice: string | null } {
  const hit = cache.get(key);
  if (hit === null) return { c: null, notice: null };
  const damaged = (why: string) => ({ c: null, notice: `rules: compiled-rules cache entry in the ${cache.where} is damaged (${why}); compiled afresh` });
  try {
    return { c: decodeSnapshot(openEntry(hit)), notice: null };
  } catch (e) {
    return damaged((e as Error).message);
  }
}

type Compiled = Pick<LoadedRules, "classifier" | "problems" | "risky" | "summary" | "cached" | "cacheNotice">;

async function compile(tree: RuleTree, level: Level, crackingIgnore: boolean, readProblems: RuleProblem[], prefix: string, sliceMs: number, cache: RuleCacheStore | null, compiler: ChildCompiler | null): Promise<Compiled> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const set = selectRules(tree, level, crackingIgnore);
  set.problems.unshift(...readProblems);
  const key = cache !== null ? ruleSetCacheKey(set) : "";
  const hit = cache !== null ? fromCache(cache, key) : { c: null, notice: null };
  let c = hit.c;
  let notice = hit.notice;
  let how = hit.c !== null ? ", from the compiled-rules cache" : "";
  if (c === null && cache !== null && compiler !== null && ruleCount(set) >= BIG_SET) {
    // the compile's garbage stays in the child (child.ts); its entry is decoded as a cached one
    try {
      const e = await compiler(set);
      c = decodeSnapshot(openEntry(e));
      cache.put(key, e.sum, e.value);
      how = ", compiled in a child process";
    } catch (e) {
      const why = `rules: compiling in a child process failed (${(e as Error).message}); compiled in the daemon`;
      notice = notice === null ? why : `${notice}; ${why}`;
    }
  }
  if (c === null) {
    c = new Classifier(set, true);
    await compileInSlices(c, sliceMs);
    if (cache !== null) {
      try {
        const e = sealEntry(encodeSnapshot(c));
        cache.put(key, e.sum, e.value);
      } catch {
        // not cached: the next load compiles again
      }
    }
    // a big compile's garbage (~100 MB for Debian's server level), before a log's lines add to it
    if (c.rules.length >= BIG_SET) collectGarbage();
  }
  c.displayPrefix = prefix;
  const cpu = process.cpuUsage(cpu0);
  const classifier = c;
  return {
    classifier,
    problems: classifier.problems.map((p) => `${prefix}${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}`),
    risky: classifier.riskyRules().map((r) => `${prefix}${r.where}: ${r.kind}: ${r.note}`),
    summary: ruleSetSummary(classifier, performance.now() - t0, (cpu.user + cpu.system) / 1000, process.memoryUsage.rss()) + how,
    cached: hit.c !== null,
    cacheNotice: notice,
  };
}

/** Load and compile the rule set of `source` at `level`. Never throws (see the header). */
export async function loadRuleSet(source: RuleSource, level: Level, options: LoadOptions = {}): Promise<LoadedRules> {
  const crackingIgnore = options.crackingIgnore ?? false;
  const sliceMs = options.sliceMs ?? 10;
  const cache = options.cache ?? null;
  const compiler = options.compiler ?? null;
  let homeMissing = false;
  let homeError: string | null = null;
  if ("home" in source && source.home === BUILTIN) source = { tree: options.fallback ?? embeddedRules() };
  if ("home" in source) {
    const prefix = homePrefix(source.home);
    try {
      const readProblems: RuleProblem[] = [];
      let tree = readRuleHome(source.home, readProblems);
      if (tree !== null) {
        const layered = !hasAlertRules(tree);
        if (layered) tree = { ...(options.fallback ?? embeddedRules()), ...tree };
        const r = await compile(tree, level, crackingIgnore, readProblems, prefix, sliceMs, cache, compiler);
        return { ...r, from: "home", homeMissing, layered, homeError, prefix };
      }
      homeMissing = true;
    } catch (e) {
      homeError = (e as Error).message;
    }
  }
  const tree = "tree" in source ? source.tree : (options.fallback ?? embeddedRules());
  const from = "tree" in source ? "tree" : "fallback";
  try {
    const r = await compile(tree, level, crackingIgnore, [], EMBEDDED_PREFIX, sliceMs, cache, compiler);
    return { ...r, from, homeMissing, layered: false, homeError, prefix: EMBEDDED_PREFIX };
  } catch (e) {
    // cannot happen with a sane build; never lose lines over it: report everything
    return {
      classifier: new Classifier(selectRules({}, level, false)),
      from, homeMissing, layered: false, homeError, prefix: EMBEDDED_PREFIX, risky: [], summary: "no rules", cached: false, cacheNotice: null,
      problems: [`embedded rules could not be loaded (${(e as Error).message}); every line is reported`],
    };
  }
}
