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
//
// Towards 1M lines/s (now ~0.6-1M warm on real lines, bench/logcheck): per
// line the cost is the trie walk (recursive, a few dozen typed-array reads),
// then for each candidate an indexOf for its literal and its rest matcher;
// the candidates arrays, the sort and the verdict allocate. What would get
// there: stop at the first ignore rule that matches when no cracking/
// violations rule is a candidate (classify needs only "some ignore rule",
// not all ids); walk candidates in id order so that stop is early; keep one
// reusable candidate buffer (Int32Array) instead of pushing to arrays; and
// decode the line once into bytes so the walk and the DFAs read a
// Uint8Array instead of charCodeAt on a latin1 string.

import { RE2JS } from "re2js";
import { type CharSet, singleChar } from "./charset.ts";
import type { CompiledRule } from "./compile.ts";
import { LazyDfa } from "./dfa.ts";
import { toJsSource, toRe2Source } from "./emit.ts";
import type { Node } from "./parse.ts";
import { type Dispatch, type Elem, requiredLiteral, toPaths } from "./paths.ts";
import { type BuildEdge, type BuildNode, EMPTY_TRIE, type FlatTrie, flatten, walk } from "./trie.ts";
import { backtrackSafety } from "./safety.ts";

// The trie is built compressed (a radix trie): an edge holds a whole run of
// set elements and is split only where two paths part, so a node exists only
// where paths branch or a rule's path ends. (A trie of one node per path
// element, compressed afterwards, held ~205,000 nodes with a Map each for
// Debian's server level - 150 MB and most of the load time - and 256-slot
// byte tables on every compressed node.) Once built it is flattened into
// typed arrays (trie.ts), which the walk reads.
interface CEdge extends BuildEdge {
  elems: Elem[];
  node: CNode;
}
interface CNode extends BuildNode {
  lit: Map<number, CEdge> | null;
  other: CEdge[];
}

function newNode(): CNode {
  return { rules: [], lit: null, other: [] };
}

export type RestTest = (line: string, pos: number) => boolean;

function hasContextAssertion(n: Node): boolean {
  switch (n.t) {
    case "bol": case "wordb": case "nwordb": case "wstart": case "wend": return true;
    case "cat": return n.items.some(hasContextAssertion);
    case "alt": return n.alts.some(hasContextAssertion);
    case "group": case "rep": return hasContextAssertion(n.body);
    default: return false;
  }
}

/** How the part of a rule after its dispatch path is matched (kept by the compiled-rules cache). */
export type Rest =
  | { t: "all" } // nothing left: the path decides
  | { t: "re"; src: string } // a sticky native RegExp
  | { t: "dfa"; dfa: LazyDfa } // the lazy DFA anchored where the path ended
  | { t: "re2"; src: string }; // re2js anchored on the rest of the line

/**
 * The part of a rule after its dispatch path, matched where the path ended:
 * a sticky native RegExp when that part passes the safety check as an
 * anchored pattern, else the lazy DFA, else re2js anchored on the rest of
 * the line (only when the part does not look at the byte before it).
 * null = use the whole rule.
 */
function restOf(d: Dispatch): Rest | null {
  if (d.covered <= 0) return null;
  const rest = d.units.slice(1 + d.covered);
  if (rest.length === 0) return { t: "all" };
  const ast: Node = { t: "cat", items: rest };
  if (backtrackSafety(ast, true).safe) {
    const js = toJsSource(ast);
    if (!js.ok) return null;
    new RegExp(js.value, "y"); // a source the engine refuses: no rest matcher (the caller catches)
    return { t: "re", src: js.value };
  }
  try {
    return { t: "dfa", dfa: new LazyDfa(ast) };
  } catch {
    // too large: the whole rule's matcher decides
  }
  if (hasContextAssertion(ast)) return null;
  const r2 = toRe2Source(ast);
  return r2.ok ? { t: "re2", src: "^(?:" + r2.value + ")" } : null;
}

/** The test of a rest: the one place it is put together (cold build and cache). */
export function restTest(r: Rest): RestTest {
  switch (r.t) {
    case "all": return () => true;
    case "re": {
      const src = r.src;
      let re: RegExp | null = null; // made at the first line that needs it
      return (line, pos) => {
        re ??= new RegExp(src, "y");
        re.lastIndex = pos;
        return re.test(line);
      };
    }
    case "dfa": {
      const dfa = r.dfa;
      return (line, pos) => dfa.testAt(line, pos);
    }
    case "re2": {
      const re = RE2JS.compile(r.src);
      return (line, pos) => re.test(pos === 0 ? line : line.slice(pos));
    }
  }
}

/** Everything a built index is made of (the compiled-rules cache stores it; snapshot.ts). */
export interface IndexParts {
  trie: FlatTrie;
  generic: Array<{ id: number; lit: string }>;
  genericAny: string | null;
  genericAlways: number[];
  rests: Array<Rest | null>;
  need: string[];
}

export class RuleIndex {
  private root: CNode | null = newNode();
  private trie: FlatTrie = EMPTY_TRIE;
  private generic: Array<{ id: number; lit: string }> = [];
  private genericAny: RegExp | null = null;
  private genericAlways: number[] = [];
  private rest: Array<RestTest | null>;
  private rests: Array<Rest | null>;
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
    this.rests = new Array(rules.length).fill(null);
    this.need = new Array(rules.length).fill("");
    if (!lazy) for (const _ of this.steps()) { /* run to completion */ }
  }

  /** The build, one rule per step (lets callers yield to the event loop). */
  *steps(): Generator<void> {
    const rules = this.rules;
    const astOf = (r: CompiledRule): Node => {
      if (r.ast === null) throw new Error("RuleIndex: rule " + r.id + " has no syntax tree (its index was built already)");
      return r.ast;
    };
    for (const r of rules) {
      const lit = requiredLiteral(astOf(r));
      if (lit.length >= 3) this.need[r.id] = lit;
    }
    for (const r of rules) {
      yield;
      // a top-level `a|b` rule is a candidate when one of its branches is
      const ast = astOf(r);
      const branches = ast.t === "alt" ? ast.alts : [ast];
      for (const b of branches) {
        const d = toPaths(b);
        if (d === null) {
          this.generic.push({ id: r.id, lit: requiredLiteral(b) });
          continue;
        }
        for (const p of d.paths) this.insert(p, r.id);
        if (branches.length === 1 && r.kind !== "backref") {
          try {
            this.rests[r.id] = restOf(d);
            this.rest[r.id] = this.rests[r.id] === null ? null : restTest(this.rests[r.id]!);
          } catch {
            this.rests[r.id] = null;
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
    this.trie = flatten(this.root!);
    this.root = null; // the build's objects are garbage now
    // one scan for all the literals of unanchored rules; individual indexOf only on a hit
    const lits = [...new Set(this.generic.filter((g) => g.lit.length > 0).map((g) => g.lit))];
    this.genericAny = lits.length > 0 ? new RegExp(lits.map((l) => l.replace(/[^A-Za-z0-9_ ]/g, (ch) => "\\x" + ch.charCodeAt(0).toString(16).padStart(2, "0"))).join("|")) : null;
    this.genericAlways = [...new Set(this.generic.filter((g) => g.lit.length === 0).map((g) => g.id))];
  }

  /** What the built index is made of (snapshot.ts). */
  parts(): IndexParts {
    return { trie: this.trie, generic: this.generic, genericAny: this.genericAny?.source ?? null, genericAlways: this.genericAlways, rests: this.rests, need: this.need };
  }

  /** An index from its parts (snapshot.ts), ready to use: no build. */
  static restore(rules: CompiledRule[], p: IndexParts): RuleIndex {
    const x = new RuleIndex(rules, true);
    x.root = null;
    x.trie = p.trie;
    x.generic = p.generic;
    x.genericAny = p.genericAny === null ? null : new RegExp(p.genericAny);
    x.genericAlways = p.genericAlways;
    x.rests = p.rests;
    x.rest = p.rests.map((r) => (r === null ? null : restTest(r)));
    x.need = p.need;
    return x;
  }

  private insert(elems: Elem[], id: number): void {
    let node = this.root!;
    let i = 0;
    while (i < elems.length) {
      const e = elems[i];
      if (e.k === "run") {
        let edge = node.other.find((o) => o.run !== null && o.elems.length === 1 && o.elems[0].key === e.key);
        if (!edge) { edge = { elems: [e], run: { set: e.set, min: e.min }, node: newNode() }; node.other.push(edge); }
        node = edge.node;
        i++;
        continue;
      }
      const c = singleChar(e.set);
      let edge = c >= 0 ? node.lit?.get(c) : node.other.find((o) => o.run === null && o.elems[0].key === e.key);
      if (!edge) {
        // a new edge takes every set element up to the next run
        let j = i + 1;
        while (j < elems.length && elems[j].k === "set") j++;
        edge = { elems: elems.slice(i, j), run: null, node: newNode() };
        if (c >= 0) (node.lit ??= new Map()).set(c, edge);
        else node.other.push(edge);
        node = edge.node;
        i = j;
        continue;
      }
      const es = edge.elems;
      let k = 1;
      while (k < es.length && i + k < elems.length && elems[i + k].k === "set" && (elems[i + k].set === es[k].set || elems[i + k].key === es[k].key)) k++;
      if (k < es.length) {
        // split the edge where this path parts from it
        const mid = newNode();
        const tail: CEdge = { elems: es.slice(k), run: null, node: edge.node };
        const tc = singleChar(es[k].set);
        if (tc >= 0) (mid.lit = new Map()).set(tc, tail);
        else mid.other.push(tail);
        edge.elems = es.slice(0, k);
        edge.node = mid;
      }
      node = edge.node;
      i += k;
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
    walk(this.trie, line, 0, 0, this.cand, this.candPos);
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
