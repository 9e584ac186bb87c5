// One rule -> one engine: compileRule parses a rule line and picks the
// engine that matches it in bounded time, or refuses it with a problem.
// Matching many rules against one line is dispatch.ts.
//
// Engines, measured on a 2-core AMD EPYC with Bun 1.4.5:
//  - Native RegExp (JavaScriptCore's YARR, a backtracker) is the fastest on
//    ordinary lines (a failing test after the dispatch point costs ~0.04 us),
//    but some Debian rules are exponential in it: the amavis
//    `Hits: (-?[.[:digit:]]*)+, size:` rule never finishes on 40 digits.
//  - re2js (RE2 port) is linear: that amavis rule on a 2,000-digit Hits
//    field takes ~0.35 ms. But on ordinary Debian rules and lines one test
//    costs 1-50 us (it often falls back from its DFA to its NFA), which alone
//    would sink the 300,000 lines/s target.
//  - Our own lazy DFA (dfa.ts: Thompson NFA from the AST, subset states built
//    on demand, flat transition tables, capped cache) is linear too and costs
//    ~3 ns per byte once warm; it agrees with re2js on every Debian rule and
//    with live grep in the differential tests.
// Decision: every rule goes through the static check `backtrackSafety` (the
// argument is in safety.ts). Rules it proves safe keep the native RegExp; the
// others (about 300 of Debian's 1,900) run on the lazy DFA. A rule that is
// neither safe nor within the DFA's size limit is refused with a problem,
// never run unsafely.
//
// Compile cost is bounded: a rule file is trusted config, but a careless or
// generated rule must not take the daemon (or --test-rules) down.
//  - A rule longer than MAX_RULE_BYTES is refused before it is parsed (a
//    1 MB literal used to take 1.4 GB through parse, analysis and index).
//  - A rule not proven safe whose NFA exceeds MAX_NFA_STATES (dfa.ts) is
//    refused: re2js used to be the fallback there, but it took 18 s and
//    hundreds of MB to compile a 10,000-word alternation, and its matching
//    is no cheaper per byte on such a pattern. No Debian rule comes near.
//  - Large alternations of plain words (a generated word list) are first
//    rewritten into the trie of their words (literals.ts): same language,
//    one node per distinct prefix, each choice decided by the next byte, so
//    such a list usually stays on the native engine and compiles in
//    milliseconds.
//
// Back-references (three Debian rules; neither DFA nor RE2 has them):
// (1) a linear pre-check (the DFA) on the rule with every back-reference
// replaced by a copy of its group - a superset of the rule's language: when
// it fails, the rule cannot match; (2) if that superset passes the safety
// check, the native RegExp decides, on any line length: the backtracker
// makes the same choices as on the proven-safe superset and a reference is
// one string comparison (this is the case for all three Debian rules);
// (3) otherwise native only on lines of at most BACKREF_MAX_LINE bytes, and
// above that a fixed fallback verdict that errs towards reporting: an ignore
// rule counts as "not matched" (the line is reported), a cracking/violations
// rule takes the pre-check's verdict (the line is alerted). Guarantee: linear
// time for (1)-(2) and for long lines in (3); on short lines in (3) the
// native engine's time on <= BACKREF_MAX_LINE bytes. Rules in (2)/(3) and on
// the DFA are listed by riskyRules() (--test-rules --explain, daemon
// diagnostics).

import { LazyDfa, MAX_NFA_STATES } from "./dfa.ts";
import { backrefMayBeUnset, backrefSuperset, toJsSource, toRe2Source } from "./emit.ts";
import type { RuleLine, RuleProblem } from "./home.ts";
import { factorWordLists } from "./literals.ts";
import { type Node, parseEre } from "./parse.ts";
import { backtrackSafety } from "./safety.ts";

export const BACKREF_MAX_LINE = 1024;

/** Longest rule (bytes of its line) that is compiled; a longer one is refused unparsed. */
export const MAX_RULE_BYTES = 256 * 1024;

/** The lazy DFA for a rule not proven safe, or a problem when its NFA is over the limit. */
function linearMatcher(ast: Node): LazyDfa | string {
  try {
    return new LazyDfa(ast);
  } catch {
    return `rule too large for the linear-time matcher (more than ${MAX_NFA_STATES} NFA states)`;
  }
}

export type EngineKind = "native" | "linear" | "backref";

/** What a rule's test is made of; enough to make it again (the compiled-rules cache keeps this). */
export interface Engine {
  kind: EngineKind;
  /** the native RegExp's source (native, backref), or null */
  js: string | null;
  /** the linear-time matcher (linear), or the back-reference rule's pre-check (backref) */
  dfa: LazyDfa | null;
  /** backref: the pre-check's superset is proven safe, so native decides on any line length */
  safe: boolean;
  /** cracking.d/violations.d rule (the back-reference fallback errs towards reporting) */
  positive: boolean;
}

export interface CompiledRule {
  id: number;
  file: string;
  line: number;
  source: string;
  kind: EngineKind;
  note: string; // why the rule is not on the native engine ("" when it is)
  engine: Engine;
  test: (line: string) => boolean;
  /** the parsed rule, for building the dispatch index; null once the index is built (layers.ts drops it) */
  ast: Node | null;
}

/** The test of an engine: the one place a rule's matcher is put together (cold compile and cache). */
export function engineTest(e: Engine): (line: string) => boolean {
  if (e.kind === "native") {
    // made at the first line that reaches the rule (most never do: dispatch.ts);
    // a source the engine refuses shows at compile time (compileRule tries it)
    const js = e.js!;
    let re: RegExp | null = null;
    return (line) => (re ??= new RegExp(js)).test(line);
  }
  const dfa = e.dfa!;
  if (e.kind === "linear") return (line) => dfa.test(line);
  const native = new RegExp(e.js!);
  // choices proven safe: the backtracker makes the same choices as on the superset; a back-reference is one string comparison
  if (e.safe) return (line) => dfa.test(line) && native.test(line);
  const positive = e.positive;
  return (line) => {
    if (!dfa.test(line)) return false;
    if (line.length <= BACKREF_MAX_LINE) return native.test(line);
    return positive; // see header: err towards reporting
  };
}

/** Compile one rule; `positive` = cracking/violations (affects back-reference fallback). */
export function compileRule(r: RuleLine, id: number, positive: boolean): { rule: CompiledRule } | { problem: RuleProblem } {
  const prob = (message: string) => ({ problem: { file: r.file, line: r.line, message } });
  if (r.source.length > MAX_RULE_BYTES) return prob(`rule too long (${r.source.length} bytes, the limit is ${MAX_RULE_BYTES})`);
  const parsed = parseEre(r.source);
  if (!parsed.ok) return prob(parsed.error);
  const ast = parsed.value.hasBackref ? parsed.value.ast : factorWordLists(parsed.value.ast);
  const rule = (engine: Engine, note: string): { rule: CompiledRule } => ({
    rule: { id, file: r.file, line: r.line, source: r.source, ast, kind: engine.kind, note, engine, test: engineTest(engine) },
  });
  try {
    if (parsed.value.hasBackref) {
      if (backrefMayBeUnset(ast)) return prob("back-reference to a group that may not take part in the match is not supported");
      const js = toJsSource(ast);
      if (!js.ok) return prob(js.error);
      const superset = backrefSuperset(ast);
      const pre = toRe2Source(superset);
      if (!pre.ok) return prob("back-reference rule without a linear pre-check: " + pre.error);
      const linear = linearMatcher(superset);
      if (typeof linear === "string") return prob(linear);
      const safe = backtrackSafety(superset).safe;
      const note = safe ? "back-reference: linear pre-check, then native (choices proven safe)"
        : `back-reference: linear pre-check, native match only on lines <= ${BACKREF_MAX_LINE} bytes, longer lines: ${positive ? "pre-check verdict" : "not ignored"}`;
      return rule({ kind: "backref", js: js.value, dfa: linear, safe, positive }, note);
    }
    const safety = backtrackSafety(ast);
    if (safety.safe) {
      const js = toJsSource(ast);
      if (!js.ok) return prob(js.error);
      new RegExp(js.value); // refused now, not at the first line (the test makes its own when needed)
      return rule({ kind: "native", js: js.value, dfa: null, safe: true, positive }, "");
    }
    const dfa = linearMatcher(ast);
    if (typeof dfa === "string") return prob(`${dfa}; it is not safe for the native engine (${safety.reason})`);
    return rule({ kind: "linear", js: null, dfa, safe: false, positive }, `risky for backtracking (${safety.reason}): runs on the linear-time matcher`);
  } catch (e) {
    return prob("cannot compile: " + String((e as Error)?.message ?? e));
  }
}
