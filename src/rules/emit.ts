// Re-emitting a parsed rule for the two foreign engines, with grep's meaning
// on byte strings: JavaScript RegExp source (the fast backtracker, used only
// for rules safety.ts proves safe, and for back-references) and RE2 syntax
// for re2js (linear time, no back-references, no look-around). Also the
// back-reference helpers: the superset of a rule without its references
// (the linear pre-check) and the "reference to a group that may be unset"
// test (grep and JavaScript disagree there, so such rules are refused).

import { type CharSet, newSet, NOT_WORD, setIntersects, setSize, singleChar } from "./charset.ts";
import { EMPTY, type Node, type Result } from "./parse.ts";
import { type FirstInfo, firstOf, lastOf } from "./safety.ts";

function hex2(c: number): string {
  return c.toString(16).padStart(2, "0");
}
function jsChar(c: number): string {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 32) return String.fromCharCode(c);
  return "\\x" + hex2(c);
}
function re2Char(c: number): string {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 32) return String.fromCharCode(c);
  return "\\x{" + hex2(c) + "}";
}

function ranges(set: CharSet): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < 256) {
    if (!set[i]) { i++; continue; }
    let j = i;
    while (j + 1 < 256 && set[j + 1]) j++;
    out.push([i, j]);
    i = j + 1;
  }
  return out;
}

function emitSet(set: CharSet, ch: (c: number) => string, never: string): string {
  const n = setSize(set);
  if (n === 0) return never;
  if (n === 1) return ch(singleChar(set));
  // Lines never hold chars above 255, so a negated class over 0..255 is exact.
  let neg = false;
  let rs = ranges(set);
  if (n > 128) {
    const inv = newSet();
    for (let i = 0; i < 256; i++) inv[i] = set[i] ? 0 : 1;
    rs = ranges(inv);
    neg = true;
  }
  let body = "";
  for (const [a, b] of rs) body += a === b ? ch(a) : b === a + 1 ? ch(a) + ch(b) : ch(a) + "-" + ch(b);
  return (neg ? "[^" : "[") + body + "]";
}

function repSuffix(min: number, max: number): string {
  if (min === 0 && max === -1) return "*";
  if (min === 1 && max === -1) return "+";
  if (min === 0 && max === 1) return "?";
  if (max === -1) return `{${min},}`;
  if (min === max) return `{${min}}`;
  return `{${min},${max}}`;
}

function isAtomic(src: string, n: Node): boolean {
  return n.t === "set" || n.t === "group" || (n.t === "bref") || src.length === 1;
}

/** JavaScript RegExp source (use with no flags) with grep's meaning on byte strings. */
export function toJsSource(ast: Node): Result<string> {
  if (backrefMayBeUnset(ast)) {
    // grep fails such a reference, JavaScript matches it as empty
    return { ok: false, error: "back-reference to a group that may not take part in the match has no JavaScript form" };
  }
  try {
    return { ok: true, value: emitJs(ast) };
  } catch (e) {
    return { ok: false, error: String((e as Error).message) };
  }
}

function emitJs(n: Node): string {
  switch (n.t) {
    case "empty": return "";
    case "set": return emitSet(n.set, jsChar, "[]");
    case "bol": return "^";
    case "eol": return "$";
    case "wordb": return "\\b";
    case "nwordb": return "\\B";
    case "wstart": return "\\b(?=\\w)";
    case "wend": return "\\b(?<=\\w)";
    case "bref": return `(?:\\${n.n})`;
    case "group": return "(" + emitJs(n.body) + ")";
    case "cat": return n.items.map((it) => (it.t === "alt" ? "(?:" + emitJs(it) + ")" : emitJs(it))).join("");
    case "alt": return n.alts.map(emitJs).join("|");
    case "rep": {
      if (n.max === 0) return "";
      const b = emitJs(n.body);
      const wrapped = isAtomic(b, n.body) && n.body.t !== "empty" ? b : "(?:" + b + ")";
      return wrapped + repSuffix(n.min, n.max);
    }
  }
}

/** RE2 (re2js) source, or an error when RE2 cannot express the rule. */
export function toRe2Source(ast: Node): Result<string> {
  try {
    return { ok: true, value: emitRe2(ast, null, null) };
  } catch (e) {
    return { ok: false, error: String((e as Error).message) };
  }
}

// RE2 has no look-around. \< and \> become \b when the neighbour is known to
// be a word character on the right side; otherwise the rule is refused.
function emitRe2(n: Node, before: FirstInfo | null, after: FirstInfo | null): string {
  switch (n.t) {
    case "empty": return "";
    case "set": return emitSet(n.set, re2Char, "[^\\x{0}-\\x{10FFFF}]");
    case "bol": return "^";
    case "eol": return "$";
    case "wordb": return "\\b";
    case "nwordb": return "\\B";
    case "wstart":
      if (after && !after.nullable && !setIntersects(after.first, NOT_WORD)) return "\\b";
      throw new Error("\\< before something that may not be a word character has no RE2 form");
    case "wend":
      if (before && !before.nullable && !setIntersects(before.first, NOT_WORD)) return "\\b";
      throw new Error("\\> after something that may not be a word character has no RE2 form");
    case "bref": throw new Error("back-references have no RE2 form");
    case "group": return "(?:" + emitRe2(n.body, before, after) + ")"; // RE2 needs no captures here
    case "cat": {
      let out = "";
      for (let i = 0; i < n.items.length; i++) {
        const it = n.items[i];
        const needs = it.t === "wstart" || it.t === "wend" || it.t === "group" || it.t === "alt";
        const b = !needs ? null : i > 0 ? lastOf({ t: "cat", items: n.items.slice(0, i) }) : before;
        const a = !needs ? null : i + 1 < n.items.length ? firstOf({ t: "cat", items: n.items.slice(i + 1) }) : after;
        const e = emitRe2(it, b, a);
        out += it.t === "alt" ? "(?:" + e + ")" : e;
      }
      return out;
    }
    case "alt": return n.alts.map((a) => emitRe2(a, before, after)).join("|");
    case "rep": {
      if (n.max === 0) return "";
      if (n.max > 1000 || n.min > 1000) throw new Error("repetition count above 1000 has no RE2 form");
      const b = emitRe2(n.body, null, null);
      const wrapped = isAtomic(b, n.body) && n.body.t !== "empty" ? b : "(?:" + b + ")";
      return wrapped + repSuffix(n.min, n.max);
    }
  }
}

/** The pattern with every back-reference replaced by a copy of its group's
 *  pattern: a superset of the rule's language without back-references. */
export function backrefSuperset(ast: Node): Node {
  const groups = new Map<number, Node>();
  const collect = (n: Node): void => {
    if (n.t === "group") { groups.set(n.n, n.body); collect(n.body); }
    else if (n.t === "cat") n.items.forEach(collect);
    else if (n.t === "alt") n.alts.forEach(collect);
    else if (n.t === "rep") collect(n.body);
  };
  collect(ast);
  const strip = (n: Node): Node => {
    switch (n.t) {
      case "group": return { t: "group", n: n.n, body: strip(n.body) };
      case "cat": return { t: "cat", items: n.items.map(strip) };
      case "alt": return { t: "alt", alts: n.alts.map(strip) };
      case "rep": return { t: "rep", min: n.min, max: n.max, body: strip(n.body) };
      case "bref": {
        const g = groups.get(n.n);
        return g ? ungroup(strip(g)) : EMPTY;
      }
      default: return n;
    }
  };
  return strip(ast);
}

function ungroup(n: Node): Node {
  switch (n.t) {
    case "group": return { t: "cat", items: [ungroup(n.body)] };
    case "cat": return { t: "cat", items: n.items.map(ungroup) };
    case "alt": return { t: "alt", alts: n.alts.map(ungroup) };
    case "rep": return { t: "rep", min: n.min, max: n.max, body: ungroup(n.body) };
    default: return n;
  }
}

/** Does some back-reference point at a group that may not have taken part in
 *  the match when the reference is reached? grep then fails the reference,
 *  JavaScript matches it as empty: such rules are refused. */
export function backrefMayBeUnset(ast: Node): boolean {
  // Groups that are certainly set: a group is "sure" at a point if it closed
  // on every path. Conservative: a group inside an alt branch, or inside a rep
  // with min 0, is unsure for references outside that construct.
  let bad = false;
  const walk = (n: Node, sure: Set<number>): Set<number> => {
    switch (n.t) {
      case "bref":
        if (!sure.has(n.n)) bad = true;
        return sure;
      case "group": {
        const inner = walk(n.body, sure);
        const out = new Set(inner);
        out.add(n.n);
        return out;
      }
      case "cat": {
        let cur = sure;
        for (const it of n.items) cur = walk(it, cur);
        return cur;
      }
      case "alt": {
        for (const a of n.alts) walk(a, new Set(sure));
        return sure;
      }
      case "rep": {
        const inner = walk(n.body, new Set(sure));
        return n.min >= 1 ? inner : sure;
      }
      default:
        return sure;
    }
  };
  walk(ast, new Set());
  return bad;
}
