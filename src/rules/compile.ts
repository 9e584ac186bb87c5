// Compiling rules and matching many of them against one line quickly and in
// bounded time (issues 4 and 7).
//
// Engines, measured on this 2-core AMD EPYC with Bun 1.4.5:
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
// argument is in ere.ts). Rules it proves safe keep the native RegExp; the
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
//
// Index: a rule anchored with `^` is turned into "dispatch paths": the
// longest leading run of items whose match position is determined by the
// line itself - literal bytes, single-byte sets, small alternations and
// optional parts expanded into separate paths (the syslog timestamp), and
// loops `S+` followed by something whose first byte is not in S (the host
// name, `[[:digit:]]+\]`). All paths go into one compressed trie, walked
// once per line: only rules whose path fits the line are candidates, and
// their remaining part is matched right where the path ended (a sticky
// RegExp or the DFA anchored there), after an `indexOf` check for a literal
// that part must contain. For every match of a rule, its path matches the
// line at the same positions, so the trie never drops a rule that could
// match. Unanchored rules keep a required-literal pre-filter (one combined
// scan for all of them).

import { RE2JS } from "re2js";
import {
  type CharSet,
  type Node,
  backrefMayBeUnset,
  backrefSuperset,
  backtrackSafety,
  parseEre,
  setIntersects,
  setKey,
  singleChar,
  toJsSource,
  toRe2Source,
} from "./ere.ts";
import type { RuleLine, RuleProblem } from "./rules.ts";
import { LazyDfa } from "./dfa.ts";

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

// ---------------------------------------------------------------- dispatch index

type Elem =
  | { k: "set"; set: CharSet; key: string }
  | { k: "run"; set: CharSet; min: number; key: string };

interface TNode {
  rules: number[];
  lit: Map<number, TNode> | null;
  other: Array<{ elem: Elem; node: TNode }>;
  otherByKey: Map<string, { elem: Elem; node: TNode }>;
}

function newNode(): TNode {
  return { rules: [], lit: null, other: [], otherByKey: new Map() };
}

/** Flatten leading structure into a list of units. */
function units(n: Node, out: Node[]): void {
  if (n.t === "cat") for (const it of n.items) units(it, out);
  else if (n.t === "group" && n.body.t !== "alt") units(n.body, out);
  else if (n.t === "rep" && n.min === n.max && n.min <= 64 && isSet(n.body)) for (let i = 0; i < n.min; i++) out.push(unwrap(n.body));
  else out.push(n);
}
function unwrap(n: Node): Node {
  while (n.t === "group") n = n.body;
  return n;
}
function isSet(n: Node): boolean {
  return unwrap(n).t === "set";
}
const MAX_PATHS = 64;

/** All fixed sequences of sets a node can match (small alternations and
 *  optional parts expanded), or null when that is not a small finite set. */
function fixedSeqs(n: Node): CharSet[][] | null {
  return seqs<CharSet>(n, (set) => set, () => null);
}

/**
 * Every way a node reads as a finite sequence of leaves (byte sets through
 * `leaf`; an unbounded loop through `loop`, null = give up), at most MAX_PATHS
 * of them; null when there are more, or a part cannot be read so.
 */
function seqs<T>(n: Node, leaf: (set: CharSet) => T, loop: (n: Extract<Node, { t: "rep" }>) => T[][] | null): T[][] | null {
  const rec = (m: Node) => seqs(m, leaf, loop);
  switch (n.t) {
    case "set": return [[leaf(n.set)]];
    case "empty": return [[]];
    case "group": return rec(n.body);
    case "alt": {
      const out: T[][] = [];
      for (const a of n.alts) {
        const s = rec(a);
        if (!s) return null;
        out.push(...s);
        if (out.length > MAX_PATHS) return null;
      }
      return out;
    }
    case "cat": {
      let acc: T[][] = [[]];
      for (const it of n.items) {
        const s = rec(it);
        if (!s) return null;
        const next: T[][] = [];
        for (const x of acc) for (const y of s) next.push(x.concat(y));
        if (next.length > MAX_PATHS) return null;
        acc = next;
      }
      return acc;
    }
    case "rep": {
      if (n.max === -1) return loop(n);
      if (n.max > 64) return null;
      const s = rec(n.body);
      if (!s) return null;
      let acc: T[][] = n.min === 0 ? [[]] : [];
      let cur: T[][] = [[]];
      for (let k = 1; k <= n.max; k++) {
        const next: T[][] = [];
        for (const x of cur) for (const y of s) next.push(x.concat(y));
        if (next.length + acc.length > MAX_PATHS) return null;
        cur = next;
        if (k >= n.min) acc = acc.concat(cur);
      }
      return acc;
    }
    default: return null;
  }
}

const setKeys = new WeakMap<CharSet, string>();
function setElem(set: CharSet): Elem {
  let key = setKeys.get(set);
  if (key === undefined) { key = "s" + setKey(set); setKeys.set(set, key); }
  return { k: "set", set, key };
}

/** For an alternation that is not a small finite set: the fixed leading
 *  sequences of its alternatives (each alternative cut at its first loop). */
function prefixSeqs(u: Node): CharSet[][] | null {
  let n = u;
  while (n.t === "group") n = n.body;
  const branches = n.t === "alt" ? n.alts : [n];
  const out: CharSet[][] = [];
  for (const b of branches) {
    const us: Node[] = [];
    units(b, us);
    let acc: CharSet[][] = [[]];
    for (const it of us) {
      const s = fixedSeqs(it);
      if (!s) break;
      const next: CharSet[][] = [];
      for (const x of acc) for (const y of s) next.push(x.concat(y));
      if (next.length > MAX_PATHS) break;
      acc = next;
    }
    out.push(...acc);
    if (out.length > MAX_PATHS) return null;
  }
  return out;
}

/**
 * Dispatch paths of a `^`-anchored rule: every way its leading part can be
 * read as a sequence of byte sets and deterministic runs. null = no path.
 */
interface Dispatch {
  paths: Elem[][];
  /** units (after `^`) fully covered by every path; -1 when a path ends inside a unit */
  covered: number;
  units: Node[];
}

/** Like fixedSeqs, but an unbounded loop over one byte set becomes a run element. */
function elemSeqs(n: Node): Elem[][] | null {
  return seqs<Elem>(n, setElem, (r) => {
    if (!isSet(r.body)) return null;
    const set = (unwrap(r.body) as { t: "set"; set: CharSet }).set;
    return [[{ k: "run", set, min: r.min, key: `r${r.min}:` + setKey(set) }]];
  });
}

/** Is every run in step i followed by a byte set disjoint from it? */
function stepRunsDecided(steps: Elem[][][], i: number): boolean {
  for (const alt of steps[i]) {
    for (let j = 0; j < alt.length; j++) {
      const e = alt[j];
      if (e.k !== "run") continue;
      // the next element must consume at least one byte, none of them in the run's set
      const bad = (f: Elem | undefined) => !f || (f.k === "run" && f.min === 0) || setIntersects(f.set, e.set);
      if (j + 1 < alt.length) {
        if (bad(alt[j + 1])) return false;
        continue;
      }
      const next = steps[i + 1];
      if (!next) return false;
      for (const na of next) if (bad(na[0])) return false;
    }
  }
  return true;
}

function toPaths(ast: Node): Dispatch | null {
  const us: Node[] = [];
  units(ast, us);
  if (us.length === 0 || us[0].t !== "bol") return null;
  // each unit becomes a list of alternatives, each a list of elements
  const steps: Elem[][][] = [];
  let terminal = false;
  for (let i = 1; i < us.length; i++) {
    const seqs = elemSeqs(us[i]);
    if (!seqs) {
      // last resort: the fixed leading part of every alternative; the path
      // ends after it
      const pre = prefixSeqs(us[i]);
      if (pre && pre.every((q) => q.length > 0)) { steps.push(pre.map((q) => q.map(setElem))); terminal = true; }
      break;
    }
    steps.push(seqs);
  }
  // a run is usable only when what follows it starts with a byte not in the
  // run's set (so the run ends at a position fixed by the line)
  let usable = 0;
  while (usable < steps.length && stepRunsDecided(steps, usable)) usable++;
  let paths: Elem[][] = [[]];
  let covered = 0;
  for (let i = 0; i < usable; i++) {
    const next: Elem[][] = [];
    for (const p of paths) for (const alt of steps[i]) next.push(p.concat(alt));
    if (next.length > MAX_PATHS) break;
    paths = next;
    covered = i + 1;
  }
  if (terminal && covered === steps.length) covered = -1;
  return { paths, covered, units: us };
}

/** Longest literal every match must contain (top-level only), for unanchored rules. */
function requiredLiteral(ast: Node): string {
  const us: Node[] = [];
  units(ast, us);
  let best = "";
  let cur = "";
  for (const u of us) {
    const c = u.t === "set" ? singleChar(u.set) : -1;
    if (c >= 0) {
      cur += String.fromCharCode(c);
      if (cur.length > best.length) best = cur;
    } else if (u.t === "bol" || u.t === "eol" || u.t === "wordb" || u.t === "nwordb" || u.t === "wstart" || u.t === "wend") {
      // zero width: keeps neighbours adjacent
    } else {
      cur = "";
    }
  }
  return best;
}

// Compressed trie edge: a sequence of byte sets, or a deterministic run.
interface CEdge {
  seq: CharSet[]; // checked from index `from` (1 for edges reached through the lit map)
  run: { set: CharSet; min: number } | null;
  node: CNode;
}
interface CNode {
  rules: number[]; // rule ids whose path ends here
  lit: Array<CEdge | null> | null; // 256 entries: edge by first byte
  other: CEdge[];
}

type RestTest = (line: string, pos: number) => boolean;

function hasContextAssertion(n: Node): boolean {
  switch (n.t) {
    case "bol": case "wordb": case "nwordb": case "wstart": case "wend": return true;
    case "cat": return n.items.some(hasContextAssertion);
    case "alt": return n.alts.some(hasContextAssertion);
    case "group": case "rep": return hasContextAssertion(n.body);
    default: return false;
  }
}

/**
 * The part of a rule after its dispatch path, matched where the path ended:
 * a sticky native RegExp when that part passes the safety check as an
 * anchored pattern, else re2js anchored on the rest of the line (only when
 * the part does not look at the byte before it). null = use the whole rule.
 */
function restMatcher(d: Dispatch): RestTest | null {
  if (d.covered <= 0) return null;
  const rest = d.units.slice(1 + d.covered);
  if (rest.length === 0) return () => true;
  const ast: Node = { t: "cat", items: rest };
  if (backtrackSafety(ast, true).safe) {
    const js = toJsSource(ast);
    if (!js.ok) return null;
    const re = new RegExp(js.value, "y");
    return (line, pos) => {
      re.lastIndex = pos;
      return re.test(line);
    };
  }
  try {
    const dfa = new LazyDfa(ast);
    return (line, pos) => dfa.testAt(line, pos);
  } catch {
    // too large: the whole rule's matcher decides
  }
  if (hasContextAssertion(ast)) return null;
  const r2 = toRe2Source(ast);
  if (!r2.ok) return null;
  const re = RE2JS.compile("^(?:" + r2.value + ")");
  return (line, pos) => re.test(pos === 0 ? line : line.slice(pos));
}

export class RuleIndex {
  private build = newNode();
  private root: CNode = { rules: [], lit: null, other: [] };
  private generic: Array<{ id: number; lit: string }> = [];
  private genericAny: RegExp | null = null;
  private genericAlways: number[] = [];
  private rest: Array<RestTest | null>;
  /** a literal every match must contain (after the rest position when the rest is used); "" = none */
  private need: string[];
  private mark: Uint32Array;
  private epoch = 0;
  private cand: number[] = [];
  private candPos: number[] = [];
  private line = "";

  /** Build the index; with `lazy`, call steps() to completion before use. */
  constructor(readonly rules: CompiledRule[], lazy = false) {
    this.mark = new Uint32Array(rules.length + 1);
    this.rest = new Array(rules.length).fill(null);
    this.need = new Array(rules.length).fill("");
    if (!lazy) for (const _ of this.steps()) { /* run to completion */ }
  }

  /** The build, one rule per step (lets callers yield to the event loop). */
  *steps(): Generator<void> {
    const rules = this.rules;
    for (const r of rules) {
      const lit = requiredLiteral(r.ast);
      if (lit.length >= 3) this.need[r.id] = lit;
    }
    for (const r of rules) {
      yield;
      // a top-level `a|b` rule is a candidate when one of its branches is
      const branches = r.ast.t === "alt" ? r.ast.alts : [r.ast];
      for (const b of branches) {
        const d = toPaths(b);
        if (d === null) {
          this.generic.push({ id: r.id, lit: requiredLiteral(b) });
          continue;
        }
        for (const p of d.paths) this.insert(p, r.id);
        if (branches.length === 1 && r.kind !== "backref") {
          try {
            this.rest[r.id] = restMatcher(d);
          } catch {
            this.rest[r.id] = null;
          }
          if (this.rest[r.id] !== null) {
            // the rest is searched from where the path ended: only its own literal counts
            const lit = requiredLiteral({ t: "cat", items: d.units.slice(1 + d.covered) });
            this.need[r.id] = lit.length >= 3 ? lit : "";
          }
        }
      }
    }
    this.root = yield* compress(this.build);
    // one scan for all the literals of unanchored rules; individual indexOf only on a hit
    const lits = [...new Set(this.generic.filter((g) => g.lit.length > 0).map((g) => g.lit))];
    this.genericAny = lits.length > 0 ? new RegExp(lits.map((l) => l.replace(/[^A-Za-z0-9_ ]/g, (ch) => "\\x" + ch.charCodeAt(0).toString(16).padStart(2, "0"))).join("|")) : null;
    this.genericAlways = [...new Set(this.generic.filter((g) => g.lit.length === 0).map((g) => g.id))];
  }

  private insert(elems: Elem[], id: number): void {
    let node = this.build;
    for (const e of elems) {
      const c = e.k === "set" ? singleChar(e.set) : -1;
      if (c >= 0) {
        if (!node.lit) node.lit = new Map();
        let nx = node.lit.get(c);
        if (!nx) { nx = newNode(); node.lit.set(c, nx); }
        node = nx;
        continue;
      }
      let found = node.otherByKey.get(e.key);
      if (!found) { found = { elem: e, node: newNode() }; node.other.push(found); node.otherByKey.set(e.key, found); }
      node = found.node;
    }
    node.rules.push(id);
  }

  /** Candidate rule ids for a line, each with the position its rest starts (-1 = test the whole rule). */
  private collect(line: string): void {
    this.epoch++;
    if (this.epoch === 0xffffffff) { this.mark.fill(0); this.epoch = 1; }
    this.cand.length = 0;
    this.candPos.length = 0;
    this.line = line;
    this.walk(this.root, 0);
    for (const id of this.genericAlways) { this.cand.push(id); this.candPos.push(-1); }
    if (this.genericAny !== null && this.genericAny.test(line)) {
      for (const g of this.generic) {
        if (g.lit.length > 0 && line.indexOf(g.lit) >= 0) { this.cand.push(g.id); this.candPos.push(-1); }
      }
    }
  }

  candidates(line: string): number[] {
    this.collect(line);
    return [...new Set(this.cand)];
  }

  private walk(node: CNode, pos: number): void {
    const rules = node.rules;
    for (let i = 0; i < rules.length; i++) {
      this.cand.push(rules[i]);
      this.candPos.push(pos);
    }
    const line = this.line;
    if (node.lit !== null && pos < line.length) {
      const e = node.lit[line.charCodeAt(pos)];
      if (e !== null) {
        const seq = e.seq;
        const end = pos + seq.length;
        if (end <= line.length) {
          let k = 1;
          for (; k < seq.length; k++) if (seq[k][line.charCodeAt(pos + k)] === 0) break;
          if (k === seq.length) this.walk(e.node, end);
        }
      }
    }
    const other = node.other;
    for (let i = 0; i < other.length; i++) {
      const e = other[i];
      if (e.run !== null) {
        let j = pos;
        const s = e.run.set;
        while (j < line.length && s[line.charCodeAt(j)] === 1) j++;
        if (j - pos >= e.run.min) this.walk(e.node, j);
        continue;
      }
      const seq = e.seq;
      const end = pos + seq.length;
      if (end > line.length) continue;
      let k = 0;
      for (; k < seq.length; k++) if (seq[k][line.charCodeAt(pos + k)] === 0) break;
      if (k === seq.length) this.walk(e.node, end);
    }
  }

  /** Ids of all rules matching the line, ascending. */
  matchAll(line: string): number[] {
    this.collect(line);
    const out: number[] = [];
    const ep = this.epoch;
    const cand = this.cand;
    const pos = this.candPos;
    for (let i = 0; i < cand.length; i++) {
      const id = cand[i];
      if (this.mark[id] === ep) continue; // already matched
      const rest = pos[i] >= 0 ? this.rest[id] : null;
      const need = this.need[id];
      if (need.length > 0 && line.indexOf(need, rest !== null ? pos[i] : 0) < 0) continue;
      const ok = rest !== null ? rest(line, pos[i]) : this.rules[id].test(line);
      if (ok) { this.mark[id] = ep; out.push(id); }
    }
    if (out.length > 1) out.sort((a, b) => a - b);
    return out;
  }

  stats(): { indexed: number; generic: number; restMatchers: number } {
    const g = new Set(this.generic.map((x) => x.id)).size;
    return { indexed: this.rules.length - g, generic: g, restMatchers: this.rest.filter((x) => x !== null).length };
  }
}

/** Turn the build trie into the walk trie, merging chains of set elements
 *  (a generator, one step per node, so a long build can yield). */
function* compress(n: TNode): Generator<void, CNode> {
  yield;
  const out: CNode = { rules: n.rules, lit: null, other: [] };
  function* follow(first: Elem, node: TNode): Generator<void, CEdge> {
    if (first.k === "run") return { seq: [], run: { set: first.set, min: first.min }, node: yield* compress(node) };
    const seq: CharSet[] = [first.set];
    let cur = node;
    for (;;) {
      const litN = cur.lit ? cur.lit.size : 0;
      if (cur.rules.length > 0 || litN + cur.other.length !== 1) break;
      if (litN === 1) {
        const [c, nx] = [...cur.lit!.entries()][0];
        const s = new Uint8Array(256);
        s[c] = 1;
        seq.push(s);
        cur = nx;
      } else {
        const o = cur.other[0];
        if (o.elem.k !== "set") break;
        seq.push(o.elem.set);
        cur = o.node;
      }
    }
    return { seq, run: null, node: yield* compress(cur) };
  }
  if (n.lit) {
    const lit = new Array<CEdge | null>(256).fill(null);
    for (const [c, nx] of n.lit) {
      const s = new Uint8Array(256);
      s[c] = 1;
      lit[c] = yield* follow({ k: "set", set: s, key: "" }, nx);
    }
    out.lit = lit;
  }
  for (const o of n.other) out.other.push(yield* follow(o.elem, o.node));
  return out;
}
