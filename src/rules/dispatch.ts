// Matching many rules against one line: RuleIndex holds every compiled rule
// of a rule set and returns the ids of the rules a line matches.
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
import { type CharSet, singleChar } from "./charset.ts";
import type { CompiledRule } from "./compile.ts";
import { LazyDfa } from "./dfa.ts";
import { toJsSource, toRe2Source } from "./emit.ts";
import type { Node } from "./parse.ts";
import { type Dispatch, type Elem, requiredLiteral, toPaths } from "./paths.ts";
import { backtrackSafety } from "./safety.ts";

// The build trie: one node per path step (literal bytes by value, other steps by key).
interface TNode {
  rules: number[];
  lit: Map<number, TNode> | null;
  other: Array<{ elem: Elem; node: TNode }>;
  otherByKey: Map<string, { elem: Elem; node: TNode }>;
}

function newNode(): TNode {
  return { rules: [], lit: null, other: [], otherByKey: new Map() };
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
