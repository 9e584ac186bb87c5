// Thompson NFA of a rule's syntax tree, for the lazy DFA (dfa.ts): states
// in parallel arrays (kind, byte set, two exits, assertion). nfaToInts gives the
// same automaton as plain numbers and set indices, for the compiled-rules
// cache (snapshot.ts): restoring it is copying arrays, no parsing.

import type { CharSet } from "./charset.ts";
import type { Node } from "./parse.ts";

export const CHAR = 0, SPLIT = 1, ASSERT = 2, MATCH = 3;
export type AssertKind = "bol" | "eol" | "wordb" | "nwordb" | "wstart" | "wend";
const ASSERTS: AssertKind[] = ["bol", "eol", "wordb", "nwordb", "wstart", "wend"];

export const MAX_NFA_STATES = 20000;

export class Nfa {
  kind: number[] = [];
  set: Array<CharSet | null> = [];
  out1: number[] = [];
  out2: number[] = [];
  assertion: Array<AssertKind | null> = [];
  usesWord = false;
  start = -1;

  add(kind: number, set: CharSet | null, a: AssertKind | null): number {
    if (this.kind.length >= MAX_NFA_STATES) throw new Error("pattern too large for the linear matcher");
    this.kind.push(kind);
    this.set.push(set);
    this.out1.push(-1);
    this.out2.push(-1);
    this.assertion.push(a);
    return this.kind.length - 1;
  }
}

// A fragment: start state and the list of dangling exits (state, which out).
interface Frag {
  start: number;
  outs: Array<[number, 1 | 2]>;
}

function patch(nfa: Nfa, outs: Array<[number, 1 | 2]>, to: number): void {
  for (const [s, w] of outs) {
    if (w === 1) nfa.out1[s] = to;
    else nfa.out2[s] = to;
  }
}

function build(nfa: Nfa, n: Node): Frag {
  switch (n.t) {
    case "empty": {
      const s = nfa.add(SPLIT, null, null); // epsilon: out1 only, out2 unused
      return { start: s, outs: [[s, 1]] };
    }
    case "set": {
      const s = nfa.add(CHAR, n.set, null);
      return { start: s, outs: [[s, 1]] };
    }
    case "bol": case "eol": case "wordb": case "nwordb": case "wstart": case "wend": {
      if (n.t !== "bol" && n.t !== "eol") nfa.usesWord = true;
      const s = nfa.add(ASSERT, null, n.t);
      return { start: s, outs: [[s, 1]] };
    }
    case "group":
      return build(nfa, n.body);
    case "cat": {
      if (n.items.length === 0) return build(nfa, { t: "empty" });
      let f = build(nfa, n.items[0]);
      const start = f.start;
      for (let i = 1; i < n.items.length; i++) {
        const g = build(nfa, n.items[i]);
        patch(nfa, f.outs, g.start);
        f = { start, outs: g.outs };
      }
      return { start, outs: f.outs };
    }
    case "alt": {
      const frags = n.alts.map((a) => build(nfa, a));
      let start = frags[frags.length - 1].start;
      for (let i = frags.length - 2; i >= 0; i--) {
        const s = nfa.add(SPLIT, null, null);
        nfa.out1[s] = frags[i].start;
        nfa.out2[s] = start;
        start = s;
      }
      return { start, outs: frags.flatMap((f) => f.outs) };
    }
    case "rep": {
      const parts: Frag[] = [];
      for (let k = 0; k < n.min; k++) parts.push(build(nfa, n.body));
      if (n.max === -1) {
        const body = build(nfa, n.body);
        const s = nfa.add(SPLIT, null, null);
        nfa.out1[s] = body.start;
        patch(nfa, body.outs, s);
        parts.push({ start: s, outs: [[s, 2]] });
      } else {
        // optional copies: (body (body (...)?)?)?, built from the innermost
        let tailStart = -1;
        let tailOuts: Array<[number, 1 | 2]> = [];
        for (let k = n.max - 1; k >= n.min; k--) {
          const body = build(nfa, n.body);
          const s = nfa.add(SPLIT, null, null);
          nfa.out1[s] = body.start;
          if (tailStart >= 0) {
            patch(nfa, body.outs, tailStart);
            tailOuts = [[s, 2], ...tailOuts];
          } else {
            tailOuts = [[s, 2], ...body.outs];
          }
          tailStart = s;
        }
        if (tailStart >= 0) parts.push({ start: tailStart, outs: tailOuts });
      }
      if (parts.length === 0) return build(nfa, { t: "empty" });
      for (let i = 0; i < parts.length - 1; i++) patch(nfa, parts[i].outs, parts[i + 1].start);
      return { start: parts[0].start, outs: parts[parts.length - 1].outs };
    }
    case "bref":
      throw new Error("back-references have no linear matcher");
  }
}


/** The NFA of a syntax tree, its start state set and a MATCH state at the end. Throws past MAX_NFA_STATES. */
export function nfaOf(ast: Node): Nfa {
  const nfa = new Nfa();
  const f = build(nfa, ast);
  const m = nfa.add(MATCH, null, null);
  patch(nfa, f.outs, m);
  nfa.start = f.start;
  return nfa;
}

/**
 * An NFA appended to `out` as numbers: n, start, usesWord, then per state
 * kind, byte set (an index into a shared set table, -1 = none), out1, out2,
 * assertion (-1 = none).
 */
export function nfaToInts(nfa: Nfa, setIndex: (s: CharSet) => number, out: number[]): void {
  out.push(nfa.kind.length, nfa.start, nfa.usesWord ? 1 : 0);
  for (const k of nfa.kind) out.push(k);
  for (const x of nfa.set) out.push(x === null ? -1 : setIndex(x));
  for (const o of nfa.out1) out.push(o);
  for (const o of nfa.out2) out.push(o);
  for (const x of nfa.assertion) out.push(x === null ? -1 : ASSERTS.indexOf(x));
}

/** The NFA stored at `at` by nfaToInts; throws on anything out of range (a damaged cache). */
export function nfaFromInts(d: Int32Array, at: number, sets: readonly CharSet[]): Nfa {
  const bad = () => new Error("damaged NFA");
  const n = d[at];
  const start = d[at + 1];
  if (!(n > 0 && n <= MAX_NFA_STATES && at + 3 + 5 * n <= d.length && start >= 0 && start < n)) throw bad();
  const k0 = at + 3, s0 = k0 + n, a0 = s0 + n, b0 = a0 + n, c0 = b0 + n;
  const nfa = new Nfa();
  for (let i = 0; i < n; i++) {
    const k = d[k0 + i];
    const si = d[s0 + i], o1 = d[a0 + i], o2 = d[b0 + i], ai = d[c0 + i];
    const set = si === -1 ? null : sets[si];
    const a = ai === -1 ? null : ASSERTS[ai];
    if (!(k >= CHAR && k <= MATCH) || set === undefined || a === undefined || o1 < -1 || o1 >= n || o2 < -1 || o2 >= n) throw bad();
    if ((k === CHAR) !== (set !== null) || (k === ASSERT) !== (a !== null) || ((k === CHAR || k === ASSERT) && o1 < 0)) throw bad();
    nfa.kind.push(k); nfa.set.push(set); nfa.out1.push(o1); nfa.out2.push(o2); nfa.assertion.push(a);
  }
  nfa.start = start;
  nfa.usesWord = d[at + 2] === 1;
  return nfa;
}
