// Dispatch paths: how the leading part of a `^`-anchored rule reads as a
// sequence of byte sets and deterministic runs (`S+` followed by a byte not
// in S), so dispatch.ts can put every rule into one trie walked once per
// line; and the literal every match of a rule must contain (its pre-filter).
// Pure functions of the AST. The index built from them is in dispatch.ts.

import { type CharSet, setIntersects, setKey, singleChar } from "./charset.ts";
import type { Node } from "./parse.ts";

/** One step of a path: a byte set, or a run of bytes of one set (at least `min`). */
export type Elem =
  | { k: "set"; set: CharSet; key: string }
  | { k: "run"; set: CharSet; min: number; key: string };

/** Flatten leading structure into a list of units. */
export function units(n: Node, out: Node[]): void {
  if (n.t === "cat") for (const it of n.items) units(it, out);
  else if (n.t === "group" && n.body.t !== "alt") units(n.body, out);
  else if (n.t === "rep" && n.min === n.max && n.min <= 64 && isSet(n.body)) for (let i = 0; i < n.min; i++) out.push(unwrap(n.body));
  else out.push(n);
}
export function unwrap(n: Node): Node {
  while (n.t === "group") n = n.body;
  return n;
}
export function isSet(n: Node): boolean {
  return unwrap(n).t === "set";
}
export const MAX_PATHS = 64;

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
export interface Dispatch {
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

export function toPaths(ast: Node): Dispatch | null {
  const us: Node[] = [];
  units(ast, us);
  if (us.length === 0 || us[0].t !== "bol") return null;
  // each unit becomes a list of alternatives, each a list of elements; a
  // unit's step is read only when the path may reach it (the rest of a long
  // rule is never expanded)
  const steps: Elem[][][] = [];
  let terminal = false;
  let done = false;
  const readStep = (i: number): Elem[][] | undefined => {
    while (!done && steps.length <= i) {
      const u = steps.length + 1;
      if (u >= us.length) { done = true; break; }
      const seqs = elemSeqs(us[u]);
      if (!seqs) {
        // last resort: the fixed leading part of every alternative; the path
        // ends after it
        const pre = prefixSeqs(us[u]);
        if (pre && pre.every((q) => q.length > 0)) { steps.push(pre.map((q) => q.map(setElem))); terminal = true; }
        done = true;
        break;
      }
      steps.push(seqs);
    }
    return steps[i];
  };
  // a run is usable only when what follows it starts with a byte not in the
  // run's set (so the run ends at a position fixed by the line); the steps
  // are covered while the number of paths stays within MAX_PATHS
  let count = 1;
  let covered = 0;
  for (let i = 0; readStep(i) !== undefined; i++) {
    readStep(i + 1);
    if (!stepRunsDecided(steps, i) || steps[i].length === 0) break;
    if (count * steps[i].length > MAX_PATHS) break;
    count *= steps[i].length;
    covered = i + 1;
  }
  // every combination of the covered steps' alternatives, each path built once
  // (extending all paths step by step copied them over and over: quadratic)
  const paths: Elem[][] = [];
  const pick = new Array<number>(covered).fill(0);
  for (;;) {
    const p: Elem[] = [];
    for (let i = 0; i < covered; i++) for (const e of steps[i][pick[i]]) p.push(e);
    paths.push(p);
    let i = covered - 1;
    while (i >= 0 && ++pick[i] === steps[i].length) pick[i--] = 0;
    if (i < 0) break;
  }
  if (terminal && covered === steps.length) covered = -1;
  return { paths, covered, units: us };
}

/** Longest literal every match must contain (top-level only), for unanchored rules. */
export function requiredLiteral(ast: Node): string {
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

