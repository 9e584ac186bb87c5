// Backtrack-safety analysis of a parsed rule: may JavaScriptCore's
// backtracking RegExp take more than linear time on it? The argument is in
// backtrackSafety's comment below; compile.ts sends every rule it cannot
// prove safe to a linear-time engine. Also the FIRST/LAST byte sets of a
// node (what a match can start/end with), which the emitters use too.

import { type CharSet, DOT, newSet, setIntersects, setUnion } from "./charset.ts";
import { EMPTY, isZeroWidth, type Node } from "./parse.ts";

export interface FirstInfo {
  first: CharSet; // chars that can start a non-empty match
  nullable: boolean; // can match the empty string (assertions count as empty)
}

/** The union of the alternatives' sets; nullable when one of them is. */
function unionOf(alts: Node[], of: (n: Node) => FirstInfo): FirstInfo {
  let first = newSet();
  let nullable = false;
  for (const a of alts) {
    const f = of(a);
    first = setUnion(first, f.first);
    nullable ||= f.nullable;
  }
  return { first, nullable };
}

export function firstOf(n: Node): FirstInfo {
  switch (n.t) {
    case "empty": case "bol": case "eol": case "wordb": case "nwordb": case "wstart": case "wend":
      return { first: newSet(), nullable: true };
    case "bref":
      // a back-reference can be anything its group can be; be conservative
      return { first: DOT, nullable: true };
    case "set":
      return { first: n.set, nullable: false };
    case "group":
      return firstOf(n.body);
    case "rep": {
      const f = firstOf(n.body);
      return { first: f.first, nullable: n.min === 0 || f.nullable || n.max === 0 };
    }
    case "alt":
      return unionOf(n.alts, firstOf);
    case "cat": {
      let first = newSet();
      for (const it of n.items) {
        const f = firstOf(it);
        first = setUnion(first, f.first);
        if (!f.nullable) return { first, nullable: false };
      }
      return { first, nullable: true };
    }
  }
}

export function lastOf(n: Node): FirstInfo {
  switch (n.t) {
    case "cat": {
      let first = newSet();
      for (let i = n.items.length - 1; i >= 0; i--) {
        const f = lastOf(n.items[i]);
        first = setUnion(first, f.first);
        if (!f.nullable) return { first, nullable: false };
      }
      return { first, nullable: true };
    }
    case "alt":
      return unionOf(n.alts, lastOf);
    case "group":
      return lastOf(n.body);
    case "rep": {
      const f = lastOf(n.body);
      return { first: f.first, nullable: n.min === 0 || f.nullable || n.max === 0 };
    }
    default:
      return firstOf(n);
  }
}

/** Most tree nodes the check visits (bounded repetitions unrolled); a larger
 *  pattern is "too large to analyse" and goes to a linear-time engine. The
 *  check is linear in the nodes it visits. */
export const ANALYSIS_BUDGET = 200000;

export interface SafetyVerdict {
  safe: boolean;
  reason: string;
}

/**
 * Static check: may a backtracking engine (JavaScriptCore's YARR) take more
 * than linear time on this pattern? We accept a pattern for the native engine
 * only when every choice the backtracker makes is decided by the next byte:
 *
 *  - every loop (`S*`, `S+`, `S{m,n}` with n > m) repeats a single-byte set S
 *    and S does not intersect the bytes that can follow the loop, so giving
 *    back a byte of the loop makes what follows fail at once: each loop costs
 *    O(bytes it consumed) whatever the input;
 *  - a bounded repeated group (`(...){m,n}`) must be small enough to unroll,
 *    and its unrolled form passes the same check; an unbounded one
 *    (`(...)*`, `(...)+`) only when its body cannot match empty, the next
 *    byte decides whether another iteration starts, and every choice inside
 *    the body is decided as well - so amavis' `(-?[.[:digit:]]*)+` is
 *    refused;
 *  - alternatives whose first bytes overlap are still decided when every
 *    pair differs in some byte position of their fixed leading parts (at
 *    most one can get past its first few bytes); other choices the next byte
 *    cannot decide multiply the paths the backtracker may try, and that
 *    product must stay <= 16, so the work is at most 16 * O(line);
 *  - when the pattern is not anchored at the start, the engine retries at
 *    every offset; we then also need that no unbounded loop can consume a
 *    byte that can start a match, so attempts never overlap in loop parts.
 *
 * Everything refused here runs on a linear-time engine (our lazy DFA, or re2js), so the
 * check only has to be sound, not complete.
 */
export function backtrackSafety(ast: Node, anchoredAtStart = false): SafetyVerdict {
  let ambiguity = 1;
  let reason = "";
  const loopSets: CharSet[] = [];
  const fail = (r: string) => {
    if (!reason) reason = r;
  };
  const EMPTYSET = newSet();

  const walk = (n: Node, follow: CharSet, budget: { n: number }): void => {
    if (reason) return;
    if (--budget.n < 0) return fail("pattern too large to analyse");
    switch (n.t) {
      case "set": case "empty": case "bol": case "eol": case "wordb": case "nwordb": case "wstart": case "wend":
        return;
      case "bref":
        return fail("back-reference");
      case "group":
        return walk(n.body, follow, budget);
      case "cat": {
        let f = follow;
        for (let i = n.items.length - 1; i >= 0; i--) {
          const it = n.items[i];
          walk(it, f, budget);
          const fi = firstOf(it);
          f = fi.nullable ? setUnion(fi.first, f) : fi.first;
        }
        return;
      }
      case "alt": {
        const firsts = n.alts.map((a) => {
          const fi = firstOf(a);
          return fi.nullable ? setUnion(fi.first, follow) : fi.first;
        });
        // some two alternatives overlap iff one meets the union of those before it
        let overlap = false;
        let seen = newSet();
        for (let i = 0; i < firsts.length && !overlap; i++) {
          if (setIntersects(seen, firsts[i])) overlap = true;
          else seen = setUnion(seen, firsts[i]);
        }
        const nullables = n.alts.filter((a) => firstOf(a).nullable).length;
        // (the pairwise prefix test is quadratic: not tried on more than 256 alternatives)
        if ((overlap || nullables > 1) && (n.alts.length > 256 || !decidedByPrefix(n.alts))) ambiguity *= n.alts.length;
        for (const a of n.alts) walk(a, follow, budget);
        return;
      }
      case "rep": {
        if (n.max === 0) return;
        let body = n.body;
        while (body.t === "group") body = body.body;
        if (body.t === "set") {
          if (n.max === n.min) return; // no choice at all
          if (setIntersects(body.set, follow)) {
            if (n.max === -1) return fail("loop over a class that overlaps what follows it");
            ambiguity *= n.max - n.min + 1;
          }
          if (n.max === -1) loopSets.push(body.set);
          return;
        }
        if (isZeroWidthTree(body)) return;
        if (n.max === -1) {
          // An unbounded repeated group is accepted only when it is LL(1)-like:
          // its body cannot match empty, whether to run another iteration
          // is decided by the next byte (FIRST(body) and what follows are
          // disjoint), and every choice inside the body is decided too (no
          // ambiguity). Then each choice point the backtracker passes fails
          // at once when revisited, so the work stays O(bytes consumed).
          const fb = firstOf(n.body);
          if (fb.nullable) return fail("unbounded repetition of a group that can match empty");
          if (setIntersects(fb.first, follow)) return fail("unbounded repetition of a group whose first bytes overlap what follows it");
          const before = ambiguity;
          walk(n.body, setUnion(fb.first, follow), budget);
          if (ambiguity !== before) return fail("ambiguous choices inside an unbounded repeated group");
          return;
        }
        if (n.max === 1) {
          // `X?`: a two-way choice unless the next byte decides it
          const fb = firstOf(n.body);
          if (fb.nullable || setIntersects(fb.first, follow)) ambiguity *= 2;
          if (n.min === 0 && fb.nullable) ambiguity *= 2;
          return walk(n.body, follow, budget);
        }
        if (n.max * size(body) > 400) return fail("large bounded repetition of a group");
        // unroll: body{min} (body (body (...)?)?)? and check that form
        let tail: Node = EMPTY;
        for (let k = n.max; k > n.min; k--) tail = { t: "rep", min: 0, max: 1, body: tail.t === "empty" ? n.body : { t: "cat", items: [n.body, tail] } };
        const items: Node[] = [];
        for (let k = 0; k < n.min; k++) items.push(n.body);
        if (tail.t !== "empty") items.push(tail);
        return walk({ t: "cat", items }, follow, budget);
      }
    }
  };
  walk(ast, EMPTYSET, { n: ANALYSIS_BUDGET });
  if (reason) return { safe: false, reason };
  if (ambiguity > 16) return { safe: false, reason: `ambiguous choices (${ambiguity} paths)` };
  const anchored = anchoredAtStart || startsWithBol(ast);
  if (!anchored && loopSets.length > 0) {
    const f = firstOf(ast);
    if (f.nullable) return { safe: false, reason: "unanchored pattern that can match empty with loops" };
    for (const ls of loopSets) if (setIntersects(ls, f.first)) return { safe: false, reason: "unanchored pattern whose loops can consume its first byte" };
  }
  return { safe: true, reason: "" };
}

/** Leading fixed sets of a node: position k holds every byte the k-th byte of
 *  a match may be (an over-approximation), as far as that is fixed. */
function leadSets(n: Node, out: CharSet[], limit: number): boolean {
  // returns true when n was consumed completely (fixed length)
  if (out.length >= limit) return false;
  switch (n.t) {
    case "set": out.push(n.set); return true;
    case "group": return leadSets(n.body, out, limit);
    case "cat":
      for (const it of n.items) if (!leadSets(it, out, limit)) return false;
      return true;
    case "rep":
      if (n.min !== n.max) {
        // the mandatory copies still lead
        for (let k = 0; k < n.min; k++) if (!leadSets(n.body, out, limit)) return false;
        return false;
      }
      for (let k = 0; k < n.min; k++) if (!leadSets(n.body, out, limit)) return false;
      return true;
    case "alt": {
      const subs = n.alts.map((a) => {
        const o: CharSet[] = [];
        const complete = leadSets(a, o, limit - out.length);
        return { o, complete };
      });
      const len = Math.min(...subs.map((x) => x.o.length));
      for (let k = 0; k < len; k++) {
        let u = newSet();
        for (const x of subs) u = setUnion(u, x.o[k]);
        out.push(u);
      }
      const same = subs.every((x) => x.complete && x.o.length === len);
      return same;
    }
    default:
      return false; // assertions and back-references end the fixed part
  }
}

/** At most one alternative can get past its first few bytes on any input:
 *  each pair differs in a position where both have a fixed byte set. */
function decidedByPrefix(alts: Node[]): boolean {
  const pre = alts.map((a) => {
    const o: CharSet[] = [];
    leadSets(a, o, 64);
    return o;
  });
  for (let i = 0; i < pre.length; i++) {
    for (let j = i + 1; j < pre.length; j++) {
      const m = Math.min(pre[i].length, pre[j].length);
      let apart = false;
      for (let k = 0; k < m && !apart; k++) if (!setIntersects(pre[i][k], pre[j][k])) apart = true;
      if (!apart) return false;
    }
  }
  return true;
}

function isZeroWidthTree(n: Node): boolean {
  switch (n.t) {
    case "cat": return n.items.every(isZeroWidthTree);
    case "alt": return n.alts.every(isZeroWidthTree);
    case "group": return isZeroWidthTree(n.body);
    case "rep": return isZeroWidthTree(n.body);
    default: return isZeroWidth(n);
  }
}

export function size(n: Node): number {
  switch (n.t) {
    case "cat": return n.items.reduce((a, b) => a + size(b), 1);
    case "alt": return n.alts.reduce((a, b) => a + size(b), 1);
    case "group": return 1 + size(n.body);
    case "rep": return 1 + size(n.body);
    default: return 1;
  }
}

export function startsWithBol(n: Node): boolean {
  switch (n.t) {
    case "bol": return true;
    case "cat": return n.items.length > 0 && startsWithBol(n.items[0]);
    case "group": return startsWithBol(n.body);
    case "alt": return n.alts.every(startsWithBol);
    default: return false;
  }
}
