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
// others (about 300 of Debian's 1,900) run on the lazy DFA; re2js is only
// the fallback when a pattern's NFA is too large for our DFA
// (MAX_NFA_STATES). A rule that is neither safe nor expressible in either
// linear engine is refused with a problem, never run unsafely.
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

import { RE2JS } from "re2js";
import { LazyDfa } from "./dfa.ts";
import { backrefMayBeUnset, backrefSuperset, toJsSource, toRe2Source } from "./emit.ts";
import type { RuleLine, RuleProblem } from "./home.ts";
import { type Node, parseEre } from "./parse.ts";
import { backtrackSafety } from "./safety.ts";

export const BACKREF_MAX_LINE = 1024;

/** A linear-time matcher: our lazy DFA, or re2js when the NFA is too large. */
function linearMatcher(ast: Node, re2src: string): { test(line: string): boolean } {
  try {
    return new LazyDfa(ast);
  } catch {
    return RE2JS.compile(re2src);
  }
}

export type EngineKind = "native" | "linear" | "re2" | "backref";

export interface CompiledRule {
  id: number;
  file: string;
  line: number;
  source: string;
  kind: EngineKind;
  note: string; // why the rule is not on the native engine ("" when it is)
  test: (line: string) => boolean;
  ast: Node;
}

/** Compile one rule; `positive` = cracking/violations (affects back-reference fallback). */
export function compileRule(r: RuleLine, id: number, positive: boolean): { rule: CompiledRule } | { problem: RuleProblem } {
  const prob = (message: string) => ({ problem: { file: r.file, line: r.line, message } });
  const parsed = parseEre(r.source);
  if (!parsed.ok) return prob(parsed.error);
  const ast = parsed.value.ast;
  const base = { id, file: r.file, line: r.line, source: r.source, ast };
  try {
    if (parsed.value.hasBackref) {
      if (backrefMayBeUnset(ast)) return prob("back-reference to a group that may not take part in the match is not supported");
      const js = toJsSource(ast);
      if (!js.ok) return prob(js.error);
      const pre = toRe2Source(backrefSuperset(ast));
      if (!pre.ok) return prob("back-reference rule without a linear pre-check: " + pre.error);
      const native = new RegExp(js.value);
      const superset = backrefSuperset(ast);
      const linear = linearMatcher(superset, pre.value);
      if (backtrackSafety(superset).safe) {
        // The backtracker makes the same choices as on the superset, which
        // is proven safe; a back-reference is one string comparison.
        return { rule: { ...base, kind: "backref", note: "back-reference: linear pre-check, then native (choices proven safe)", test: (line) => linear.test(line) && native.test(line) } };
      }
      const test = (line: string): boolean => {
        if (!linear.test(line)) return false;
        if (line.length <= BACKREF_MAX_LINE) return native.test(line);
        return positive; // see header: err towards reporting
      };
      return { rule: { ...base, kind: "backref", note: `back-reference: linear pre-check, native match only on lines <= ${BACKREF_MAX_LINE} bytes, longer lines: ${positive ? "pre-check verdict" : "not ignored"}`, test } };
    }
    const safety = backtrackSafety(ast);
    if (safety.safe) {
      const js = toJsSource(ast);
      if (!js.ok) return prob(js.error);
      const re = new RegExp(js.value);
      return { rule: { ...base, kind: "native", note: "", test: (line) => re.test(line) } };
    }
    try {
      const dfa = new LazyDfa(ast);
      return { rule: { ...base, kind: "linear", note: `risky for backtracking (${safety.reason}): runs on the linear-time matcher`, test: (line) => dfa.test(line) } };
    } catch {
      // NFA too large for our matcher: RE2 has its own limits, try it
    }
    const r2 = toRe2Source(ast);
    if (!r2.ok) {
      // Not safe for backtracking and not expressible in RE2 (\< or \> next
      // to something that may be a non-word byte): refuse rather than risk.
      return prob(`rule is not linear-time safe (${safety.reason}) and ${r2.error}`);
    }
    const re = RE2JS.compile(r2.value);
    return { rule: { ...base, kind: "re2", note: `risky for backtracking (${safety.reason}): runs on re2js`, test: (line) => re.test(line) } };
  } catch (e) {
    return prob("cannot compile: " + String((e as Error)?.message ?? e));
  }
}
