// The dispatch trie as it is walked: one Int32Array and one table of byte
// sets, no objects per node. dispatch.ts builds the trie as objects
// (BuildNode, easy to insert into and split) and flattens it here once; the
// compiled-rules cache (snapshot.ts) stores the two arrays as they are.
//
// Layout, breadth first, each node followed by its edges (so every edge
// points forward, and a walk cannot loop):
//   node: rule count, rule ids..., byte edge count B, then either a table
//         over the bytes lo..lo+span-1 when B > SPARSE_MAX: lo, span, span
//         edge offsets (-1 = none), or B pairs (byte, edge offset); then other
//         edge count, edge offsets...
//   edge: seq length L, L set indices, run set (-1 = not a run), run min, node offset
// A byte edge's first set is its byte: the walk checks its seq from index 1.
// A run edge has L = 0 and eats bytes of its set (at least `min`) greedily
// (the path's next byte is never in the set: paths.ts).
// Sets: set i is sets[256 i .. 256 i + 255], 1 = member.

import { type CharSet, SetTable } from "./charset.ts";

export const SPARSE_MAX = 8;

export interface BuildEdge {
  /** the edge's elements (a run edge: its one run element, and `run`) */
  elems: Array<{ set: CharSet }>;
  run: { set: CharSet; min: number } | null;
  node: BuildNode;
}
export interface BuildNode {
  rules: number[];
  /** edges whose first set is one byte, by that byte */
  lit: Map<number, BuildEdge> | null;
  other: BuildEdge[];
}

export interface FlatTrie {
  t: Int32Array;
  sets: Uint8Array;
}

export const EMPTY_TRIE: FlatTrie = { t: Int32Array.from([0, 0, 0]), sets: new Uint8Array(0) };

/** The walkable form of a built trie. */
export function flatten(root: BuildNode): FlatTrie {
  const table = new SetTable();
  const si = (s: CharSet): number => table.index(s);
  const seqLen = (e: BuildEdge): number => (e.run !== null ? 0 : e.elems.length);
  const edgeSize = (e: BuildEdge) => 4 + seqLen(e);
  // breadth first; each node's byte edges taken out of their Map once
  const order: BuildNode[] = [root];
  const lits: Array<Array<[number, BuildEdge]>> = [];
  for (let q = 0; q < order.length; q++) {
    const n = order[q]!;
    const lit: Array<[number, BuildEdge]> = n.lit === null ? [] : [...n.lit.entries()];
    lits.push(lit);
    for (const [, e] of lit) order.push(e.node);
    for (const e of n.other) order.push(e.node);
  }
  const lo = (lit: Array<[number, BuildEdge]>) => { let m = 255; for (const [b] of lit) if (b < m) m = b; return m; };
  const span = (lit: Array<[number, BuildEdge]>) => { let m = 0; for (const [b] of lit) if (b > m) m = b; return m - lo(lit) + 1; };
  const nodeSize = (n: BuildNode, lit: Array<[number, BuildEdge]>) =>
    3 + n.rules.length + (lit.length > SPARSE_MAX ? 2 + span(lit) : 2 * lit.length) + n.other.length;
  const at = new Map<BuildNode, number>();
  let size = 0;
  for (let q = 0; q < order.length; q++) {
    const n = order[q]!;
    const lit = lits[q]!;
    at.set(n, size);
    size += nodeSize(n, lit);
    for (const [, e] of lit) size += edgeSize(e);
    for (const e of n.other) size += edgeSize(e);
  }
  const t = new Int32Array(size);
  let p = 0;
  for (let q = 0; q < order.length; q++) {
    const n = order[q]!;
    const lit = lits[q]!;
    t[p++] = n.rules.length;
    for (const r of n.rules) t[p++] = r;
    const all = [...lit.map(([, e]) => e), ...n.other];
    let e0 = p + nodeSize(n, lit) - 1 - n.rules.length; // where this node's first edge goes
    const edgeAt: number[] = [];
    for (const e of all) { edgeAt.push(e0); e0 += edgeSize(e); }
    t[p++] = lit.length;
    if (lit.length > SPARSE_MAX) {
      const l = lo(lit);
      const w = span(lit);
      t[p++] = l;
      t[p++] = w;
      t.fill(-1, p, p + w);
      lit.forEach(([b], i) => { t[p + b - l] = edgeAt[i]!; });
      p += w;
    } else {
      lit.forEach(([b], i) => { t[p++] = b; t[p++] = edgeAt[i]!; });
    }
    t[p++] = n.other.length;
    for (let i = 0; i < n.other.length; i++) t[p++] = edgeAt[lit.length + i]!;
    for (const e of all) {
      const len = seqLen(e);
      t[p++] = len;
      for (let i = 0; i < len; i++) t[p++] = si(e.elems[i]!.set);
      t[p++] = e.run === null ? -1 : si(e.run.set);
      t[p++] = e.run?.min ?? 0;
      t[p++] = at.get(e.node)!;
    }
  }
  const sets = new Uint8Array(table.list.length * 256);
  table.list.forEach((s, i) => sets.set(s, i * 256));
  return { t, sets };
}

/** Throws unless `f` is a well-formed flat trie over `rules` rule ids (a damaged cache). */
export function checkTrie(f: FlatTrie, rules: number): void {
  const { t } = f;
  const nsets = f.sets.length / 256;
  const bad = () => new Error("damaged dispatch trie");
  if (!Number.isInteger(nsets) || t.length === 0) throw bad();
  const isNode = new Uint8Array(t.length);
  const targets: number[] = [];
  const edges: number[] = [];
  let p = 0;
  const next = (): number => {
    if (p >= t.length) throw bad();
    return t[p++];
  };
  while (p < t.length) {
    const node = p;
    isNode[node] = 1;
    const nr = next();
    if (nr < 0) throw bad();
    for (let i = 0; i < nr; i++) { const r = next(); if (r < 0 || r >= rules) throw bad(); }
    const nl = next();
    if (nl < 0 || nl > 256) throw bad();
    edges.length = 0;
    if (nl > SPARSE_MAX) {
      const lo = next();
      const w = next();
      if (lo < 0 || w < 1 || lo + w > 256) throw bad();
      for (let b = 0; b < w; b++) { const e = next(); if (e !== -1) edges.push(e); }
      if (edges.length !== nl) throw bad();
      edges.sort((a, b) => a - b); // the table is by byte; the edges follow in the order they were written
    } else {
      for (let i = 0; i < nl; i++) { const b = next(); const e = next(); if (b < 0 || b > 255) throw bad(); edges.push(e); }
    }
    const no = next();
    if (no < 0) throw bad();
    for (let i = 0; i < no; i++) edges.push(next());
    // the edges follow the node, in order; the first nl are byte edges
    for (let i = 0; i < edges.length; i++) {
      if (edges[i] !== p) throw bad();
      const lit = i < nl;
      const len = next();
      if (len < 0 || (lit && len === 0)) throw bad();
      for (let k = 0; k < len; k++) { const s = next(); if (s < 0 || s >= nsets) throw bad(); }
      const run = next();
      const min = next();
      if (run < -1 || run >= nsets || min < 0 || (run >= 0 && (len !== 0 || lit))) throw bad();
      const to = next();
      if (to <= node || to >= t.length) throw bad();
      targets.push(to);
    }
  }
  for (const x of targets) if (isNode[x] !== 1) throw bad();
}

/**
 * Walk the trie over `line` from node offset `node` at `pos`: every rule id
 * whose path ends at a reached node goes to `cand`, with the position its
 * path ended in `candPos`.
 */
export function walk(f: FlatTrie, line: string, node: number, pos: number, cand: number[], candPos: number[]): void {
  const t = f.t;
  const sets = f.sets;
  let p = node;
  const nr = t[p++];
  for (let i = 0; i < nr; i++) { cand.push(t[p++]); candPos.push(pos); }
  const nl = t[p++];
  if (nl > 0) {
    if (pos < line.length) {
      const b = line.charCodeAt(pos);
      let e = -1;
      if (nl > SPARSE_MAX) {
        const i = b - t[p];
        if (i >= 0 && i < t[p + 1]) e = t[p + 2 + i];
      }
      else for (let i = 0; i < nl; i++) if (t[p + 2 * i] === b) { e = t[p + 2 * i + 1]; break; }
      if (e >= 0) {
        const len = t[e];
        const end = pos + len;
        if (end <= line.length) {
          let k = 1;
          for (; k < len; k++) if (sets[(t[e + 1 + k] << 8) | line.charCodeAt(pos + k)] === 0) break;
          if (k === len) walk(f, line, t[e + len + 3], end, cand, candPos);
        }
      }
    }
    p += nl > SPARSE_MAX ? 2 + t[p + 1] : 2 * nl;
  }
  const no = t[p++];
  for (let i = 0; i < no; i++) {
    const e = t[p + i];
    const len = t[e];
    const run = t[e + len + 1];
    if (run >= 0) {
      let j = pos;
      const base = run << 8;
      while (j < line.length && sets[base | line.charCodeAt(j)] === 1) j++;
      if (j - pos >= t[e + len + 2]) walk(f, line, t[e + len + 3], j, cand, candPos);
      continue;
    }
    const end = pos + len;
    if (end > line.length) continue;
    let k = 0;
    for (; k < len; k++) if (sets[(t[e + 1 + k] << 8) | line.charCodeAt(pos + k)] === 0) break;
    if (k === len) walk(f, line, t[e + len + 3], end, cand, candPos);
  }
}
