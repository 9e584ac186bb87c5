// Large alternations of plain words, made cheap: `(w1|w2|...|w10000)` is
// rewritten into the trie of its words, `(a(bc|x)|zz)`-style, where the
// branches of every alternation start with different bytes. Same language,
// so the same verdicts, on every engine; but the parse tree, the NFA and the
// native pattern shrink to one node per distinct prefix, and every choice is
// decided by the next byte, so the backtracking check (safety.ts) can accept
// a word list on the native engine instead of sending it to a large NFA.
//
// Only alternations of at least TRIE_MIN_BRANCHES branches that are all
// plain literals (single bytes, groups and concatenations of them) are
// rewritten; Debian's rules have none so large, so their compiled form is
// untouched. Rules with back-references are never rewritten (the groups'
// numbers matter there). A trie deeper than TRIE_MAX_DEPTH alternations
// (words that are prefixes of one another, nested) is left as it was: the
// other passes recurse over the tree.
//
// Pure: AST in, AST out.

import { ONE_BYTE, singleChar } from "./charset.ts";
import type { Node } from "./parse.ts";

export const TRIE_MIN_BRANCHES = 64;
export const TRIE_MAX_DEPTH = 256;

/** The bytes of a node that matches exactly one string, or null. */
export function literalOf(n: Node): string | null {
  switch (n.t) {
    case "empty": return "";
    case "set": {
      const c = singleChar(n.set);
      return c >= 0 ? String.fromCharCode(c) : null;
    }
    case "group": return literalOf(n.body);
    case "cat": {
      let s = "";
      for (const it of n.items) {
        const l = literalOf(it);
        if (l === null) return null;
        s += l;
      }
      return s;
    }
    default: return null;
  }
}

interface Trie {
  end: boolean;
  next: Map<number, Trie>;
}

function insert(root: Trie, w: string): void {
  let t = root;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    let nx = t.next.get(c);
    if (!nx) { nx = { end: false, next: new Map() }; t.next.set(c, nx); }
    t = nx;
  }
  t.end = true;
}

/** Alternations below a node in the trie (its depth as the other passes recurse). */
function depth(t: Trie): number {
  let d = 0;
  for (;;) {
    if (t.next.size === 0) return d;
    if (t.next.size === 1 && !t.end) { t = t.next.values().next().value!; continue; }
    let m = 0;
    for (const c of t.next.values()) m = Math.max(m, depth(c));
    return d + 1 + m;
  }
}

function toNode(t: Trie): Node {
  const branches: Node[] = [];
  for (const c of [...t.next.keys()].sort((a, b) => a - b)) {
    const items: Node[] = [{ t: "set", set: ONE_BYTE[c] }];
    let u = t.next.get(c)!;
    while (u.next.size === 1 && !u.end) {
      const [k, v] = u.next.entries().next().value!;
      items.push({ t: "set", set: ONE_BYTE[k] });
      u = v;
    }
    if (u.next.size > 0) items.push(toNode(u));
    branches.push(items.length === 1 ? items[0] : { t: "cat", items });
  }
  if (branches.length === 0) return { t: "empty" };
  const body: Node = branches.length === 1 ? branches[0] : { t: "alt", alts: branches };
  return t.end ? { t: "rep", min: 0, max: 1, body } : body;
}

/** The alternation as the trie of its words, or null when it is not a large list of plain words. */
export function wordTrie(n: Extract<Node, { t: "alt" }>): Node | null {
  if (n.alts.length < TRIE_MIN_BRANCHES) return null;
  const root: Trie = { end: false, next: new Map() };
  for (const a of n.alts) {
    const w = literalOf(a);
    if (w === null) return null;
    insert(root, w);
  }
  if (depth(root) > TRIE_MAX_DEPTH) return null;
  return toNode(root);
}

/** The rule with every large alternation of plain words replaced by its trie
 *  (see the header); the very same node when there is none. */
export function factorWordLists(n: Node): Node {
  switch (n.t) {
    case "alt": {
      const t = wordTrie(n);
      if (t !== null) return t;
      const alts = n.alts.map(factorWordLists);
      return alts.every((a, i) => a === n.alts[i]) ? n : { t: "alt", alts };
    }
    case "cat": {
      const items = n.items.map(factorWordLists);
      return items.every((a, i) => a === n.items[i]) ? n : { t: "cat", items };
    }
    case "group": {
      const body = factorWordLists(n.body);
      return body === n.body ? n : { t: "group", n: n.n, body };
    }
    case "rep": {
      const body = factorWordLists(n.body);
      return body === n.body ? n : { t: "rep", min: n.min, max: n.max, body };
    }
    default: return n;
  }
}
