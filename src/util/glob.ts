// Globs for `exclude`, matched in time linear in the path: O(n·m) for a path
// of n characters and a glob of m (after brace expansion), whatever the input.
//
// Syntax (a glob matches the whole path, case-sensitively, dot files included):
//   *        any run of characters except '/' (a run of stars is one star;
//            a component that is only "*" is not empty)
//   **       as a whole path component: any number of whole components,
//            including none ("/a/**/x" matches /a/x and /a/b/c/x; "/a/**"
//            matches /a itself and everything below; a leading "**/" any
//            prefix ending in '/'); "**" inside a component is a plain *
//   ?        one character except '/'
//   [...]    one character of a class: members, ranges a-z, POSIX classes
//            [:alpha:] etc. (ASCII), negation by a leading ! or ^; ']' first
//            is a member, '-' first or last is a member; never matches '/'
//            (a class holding '/' is refused)
//   {a,b}    alternatives (nested, possibly empty), and ranges {1..3}, {a..e},
//            expanded when the glob is compiled; at most MAX_ALTERNATIVES in
//            all; "{x}" without a comma is literal, an unmatched '{' refused
//   \c       the character c itself
// Refused too: the extended globs ?( *( +( @( !( (write \( for a parenthesis).
//
// Characters: the path's bytes are decoded as UTF-8, so ? and [...] take one
// character as they did before; a byte that is not valid UTF-8 is a character
// of its own which only *, ?, ** and a negated class match (never a literal).
//
// Why linear: a compiled glob is a Thompson NFA of O(m) states, each with at
// most one character edge and two empty edges (glob syntax has no
// back-references, so no backtracking is ever needed). The match walks the
// path once, carrying the set of live states; each state enters the set at
// most once per character (a generation mark), so each character costs O(m)
// and the whole match O(n·m) time and O(m) space. A literal prefix (most
// globs start with a plain directory) is compared first, bytewise.

/** A glob that expands to more alternatives than this is refused. */
export const MAX_ALTERNATIVES = 64;

const SLASH = 0x2f;

// State kinds: what a state's character edge accepts.
const K_NONE = 0; // no character edge (only empty edges, or the accepting state)
const K_LIT = 1; // the character arg
const K_ONE = 2; // any character except '/'
const K_ANY = 3; // any character
const K_CLASS = 4; // class number arg

interface CharClass {
  negated: boolean;
  /** Inclusive code point ranges, as pairs. */
  ranges: number[];
}

/** One alternative of a glob: a literal byte prefix, then an NFA for the rest. */
interface Compiled {
  prefix: Buffer;
  kind: Int32Array;
  arg: Int32Array;
  next: Int32Array;
  e1: Int32Array;
  e2: Int32Array;
  accept: number;
  classes: CharClass[];
  // scratch for run(): the live state sets, the empty-edge stack, marks by generation
  setA: Int32Array;
  setB: Int32Array;
  stack: Int32Array;
  mark: Int32Array;
  gen: number;
}

export class GlobError extends Error {}

const POSIX_CLASSES: Record<string, number[]> = {
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  digit: [0x30, 0x39],
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  upper: [0x41, 0x5a],
  lower: [0x61, 0x7a],
  space: [0x09, 0x0d, 0x20, 0x20],
  blank: [0x09, 0x09, 0x20, 0x20],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  print: [0x20, 0x7e],
  graph: [0x21, 0x7e],
};

// ---- brace expansion ----------------------------------------------------------

/** Index just past the ']' closing a class that opens at i, or -1. */
function classEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === "!" || p[j] === "^") j++;
  if (p[j] === "]") j++;
  while (j < p.length) {
    if (p[j] === "\\") j += 2;
    else if (p[j] === "[" && p[j + 1] === ":") {
      const k = p.indexOf(":]", j + 2);
      j = k < 0 ? j + 1 : k + 2;
    } else if (p[j] === "]") return j + 1;
    else j++;
  }
  return -1;
}

/** The first brace group outside classes and escapes: [open, close, top-level comma positions], or null. */
function firstGroup(p: string): { open: number; close: number; commas: number[] } | null {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") i++;
    else if (c === "[") {
      const e = classEnd(p, i);
      if (e > 0) i = e - 1;
    } else if (c === "{") {
      let depth = 0;
      const commas: number[] = [];
      for (let j = i; j < p.length; j++) {
        const d = p[j];
        if (d === "\\") j++;
        else if (d === "[") {
          const e = classEnd(p, j);
          if (e > 0) j = e - 1;
        } else if (d === "{") depth++;
        else if (d === "}" && --depth === 0) return { open: i, close: j, commas };
        else if (d === "," && depth === 1) commas.push(j);
      }
      throw new GlobError(`unmatched '{' in '${p.slice(i)}'`);
    }
  }
  return null;
}

function rangeOf(body: string): string[] | null {
  const num = /^(-?\d+)\.\.(-?\d+)$/.exec(body);
  if (num) {
    const a = Number(num[1]);
    const b = Number(num[2]);
    if (Math.abs(b - a) >= MAX_ALTERNATIVES) throw new GlobError(`{${body}} expands to more than ${MAX_ALTERNATIVES} alternatives`);
    const pad = /^-?0\d/.test(num[1]) || /^-?0\d/.test(num[2]) ? Math.max(num[1].length, num[2].length) : 0;
    const out: string[] = [];
    for (let v = a; ; v += a <= b ? 1 : -1) {
      const s = String(Math.abs(v)).padStart(pad - (v < 0 ? 1 : 0), "0");
      out.push(v < 0 ? `-${s}` : s);
      if (v === b) break;
    }
    return out;
  }
  const chr = /^([A-Za-z])\.\.([A-Za-z])$/.exec(body);
  if (chr) {
    const a = chr[1].charCodeAt(0);
    const b = chr[2].charCodeAt(0);
    const out: string[] = [];
    for (let v = a; ; v += a <= b ? 1 : -1) {
      out.push(String.fromCharCode(v));
      if (v === b) break;
    }
    if (out.length > MAX_ALTERNATIVES) throw new GlobError(`{${body}} expands to more than ${MAX_ALTERNATIVES} alternatives`);
    return out;
  }
  return null;
}

/** All alternatives of a glob; throws GlobError beyond MAX_ALTERNATIVES. */
export function expandBraces(p: string): string[] {
  const out: string[] = [];
  const walk = (s: string): void => {
    const g = firstGroup(s);
    if (!g) {
      if (out.length >= MAX_ALTERNATIVES) throw new GlobError(`expands to more than ${MAX_ALTERNATIVES} alternatives`);
      out.push(s);
      return;
    }
    const head = s.slice(0, g.open);
    const tail = s.slice(g.close + 1);
    const body = s.slice(g.open + 1, g.close);
    let alts: string[];
    if (g.commas.length > 0) {
      alts = [];
      let from = g.open + 1;
      for (const c of [...g.commas, g.close]) {
        alts.push(s.slice(from, c));
        from = c + 1;
      }
    } else {
      // "{x}": literal braces, kept escaped so they are not expanded again
      alts = rangeOf(body) ?? [`\\{${body}\\}`];
    }
    for (const a of alts) walk(head + a + tail);
  };
  walk(p);
  return out;
}

// ---- one alternative to an NFA ------------------------------------------------

type Token =
  | { t: "lit"; c: number }
  | { t: "one" }
  | { t: "star" }
  | { t: "globstar" }
  | { t: "class"; k: CharClass };

function parseClass(p: string, i: number): { k: CharClass; end: number } {
  const end = classEnd(p, i);
  if (end < 0) throw new GlobError(`unclosed '[' in '${p.slice(i)}'`);
  let j = i + 1;
  const k: CharClass = { negated: false, ranges: [] };
  if (p[j] === "!" || p[j] === "^") {
    k.negated = true;
    j++;
  }
  const members: number[] = [];
  while (j < end - 1) {
    const close = p[j] === "[" && p[j + 1] === ":" ? p.indexOf(":]", j + 2) : -1;
    if (close > 0 && close < end - 1) {
      const name = p.slice(j + 2, close);
      const r = POSIX_CLASSES[name];
      if (!r) throw new GlobError(`unknown class [:${name}:]`);
      k.ranges.push(...r);
      j = close + 2;
      continue;
    }
    if (p[j] === "\\" && j + 1 < end - 1) j++;
    const c = p.codePointAt(j)!;
    j += c > 0xffff ? 2 : 1;
    if (p[j] === "-" && j + 1 < end - 1) {
      j++;
      if (p[j] === "\\" && j + 1 < end - 1) j++;
      const d = p.codePointAt(j)!;
      j += d > 0xffff ? 2 : 1;
      if (d < c) throw new GlobError(`reversed range in '${p.slice(i, end)}'`);
      k.ranges.push(c, d);
    } else members.push(c);
  }
  for (const m of members) k.ranges.push(m, m);
  for (let r = 0; r < k.ranges.length; r += 2) {
    if (k.ranges[r] <= SLASH && SLASH <= k.ranges[r + 1]) throw new GlobError(`a class cannot hold '/': '${p.slice(i, end)}'`);
  }
  return { k, end };
}

function tokenize(p: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < p.length; ) {
    const c = p[i];
    if ((c === "?" || c === "*" || c === "+" || c === "@" || c === "!") && p[i + 1] === "(") {
      throw new GlobError(`extended glob '${c}(' is not supported (write \\( for a parenthesis)`);
    }
    if (c === "\\" && i + 1 < p.length) {
      const cp = p.codePointAt(i + 1)!;
      out.push({ t: "lit", c: cp });
      i += cp > 0xffff ? 3 : 2;
    } else if (c === "?") {
      out.push({ t: "one" });
      i++;
    } else if (c === "*") {
      let j = i;
      while (p[j] === "*") j++;
      const whole = j - i === 2 && (i === 0 || p[i - 1] === "/") && (j === p.length || p[j] === "/");
      if (whole && p[j] === "(") throw new GlobError(`extended glob '*(' is not supported (write \\( for a parenthesis)`);
      // a component that is only a star needs one character at least ("/a/*" is not "/a/")
      const alone = j - i === 1 && (i === 0 || p[i - 1] === "/") && (j === p.length || p[j] === "/");
      if (whole) out.push({ t: "globstar" });
      else if (alone) out.push({ t: "one" }, { t: "star" });
      else out.push({ t: "star" });
      i = j;
    } else if (c === "[") {
      const { k, end } = parseClass(p, i);
      out.push({ t: "class", k });
      i = end;
    } else {
      const cp = p.codePointAt(i)!;
      out.push({ t: "lit", c: cp });
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return out;
}

function build(tokens: Token[]): Compiled {
  // the literal prefix (compared as bytes before the NFA runs)
  let lead = 0;
  while (lead < tokens.length && tokens[lead].t === "lit") lead++;
  // a trailing "/**" also matches the directory itself: keep its '/' out of the prefix
  if (lead > 0 && lead === tokens.length - 1 && tokens[lead].t === "globstar") lead--;
  const prefix = Buffer.from(String.fromCodePoint(...tokens.slice(0, lead).map((t) => (t as { c: number }).c)), "utf8");
  const kind: number[] = [];
  const arg: number[] = [];
  const next: number[] = [];
  const e1: number[] = [];
  const e2: number[] = [];
  const classes: CharClass[] = [];
  const state = (): number => {
    kind.push(K_NONE);
    arg.push(0);
    next.push(-1);
    e1.push(-1);
    e2.push(-1);
    return kind.length - 1;
  };
  let cur = state();
  /** cur consumes one character of kind k and moves to a new state. */
  const step = (k: number, a = 0): void => {
    const n = state();
    kind[cur] = k;
    arg[cur] = a;
    next[cur] = n;
    cur = n;
  };
  /** cur loops on characters of kind k, then moves on by an empty edge. */
  const loop = (k: number): void => {
    const n = state();
    kind[cur] = k;
    next[cur] = cur;
    e1[cur] = n;
    cur = n;
  };
  const isSlash = (t: Token | undefined) => t?.t === "lit" && t.c === SLASH;
  for (let i = lead; i < tokens.length; i++) {
    const t = tokens[i];
    if (isSlash(t) && tokens[i + 1]?.t === "globstar" && i + 2 === tokens.length) {
      // "/**" at the end: nothing, or '/' and anything
      const end = state();
      const s = state();
      e1[cur] = end;
      e2[cur] = s;
      cur = s;
      step(K_LIT, SLASH);
      loop(K_ANY);
      e2[cur] = end;
      cur = end;
      break;
    }
    if (t.t === "globstar") {
      if (tokens.length === 1) {
        loop(K_ANY);
        continue;
      }
      // "**/" (the tokenizer saw a '/' or the end after it; the end case is handled above
      // unless the glob is "**" alone): nothing, or anything ending with '/'
      const end = state();
      const s = state();
      e1[cur] = end;
      e2[cur] = s;
      cur = s;
      loop(K_ANY);
      step(K_LIT, SLASH);
      e1[cur] = end;
      cur = end;
      i++; // the '/' after "**"
      continue;
    }
    switch (t.t) {
      case "lit": step(K_LIT, t.c); break;
      case "one": step(K_ONE); break;
      case "star": loop(K_ONE); break;
      case "class": classes.push(t.k); step(K_CLASS, classes.length - 1); break;
    }
  }
  return {
    prefix,
    kind: Int32Array.from(kind),
    arg: Int32Array.from(arg),
    next: Int32Array.from(next),
    e1: Int32Array.from(e1),
    e2: Int32Array.from(e2),
    accept: cur,
    classes,
    setA: new Int32Array(kind.length),
    setB: new Int32Array(kind.length),
    // each state pushed at most once per step: no more than two edges in, marks checked before a push
    stack: new Int32Array(kind.length * 2 + 1),
    mark: new Int32Array(kind.length).fill(-1),
    gen: 0,
  };
}

// ---- matching -----------------------------------------------------------------

/**
 * Decode UTF-8 bytes to code points; a byte that does not start a valid
 * sequence becomes -1 - byte (a character no literal or positive class matches).
 */
export function decodeChars(b: Uint8Array, from: number): Int32Array {
  const out = new Int32Array(b.length - from);
  let n = 0;
  for (let i = from; i < b.length; ) {
    const c = b[i];
    let len = 0;
    let cp = 0;
    let min = 0;
    if (c < 0x80) {
      out[n++] = c;
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) (len = 2), (cp = c & 0x1f), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (len = 3), (cp = c & 0x0f), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (len = 4), (cp = c & 0x07), (min = 0x10000);
    let ok = len > 0 && i + len <= b.length;
    for (let k = 1; ok && k < len; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out[n++] = cp;
      i += len;
    } else {
      out[n++] = -1 - c;
      i++;
    }
  }
  return out.subarray(0, n);
}

function inClass(k: CharClass, c: number): boolean {
  if (c === SLASH) return false;
  let hit = false;
  if (c >= 0) for (let r = 0; r < k.ranges.length && !hit; r += 2) hit = k.ranges[r] <= c && c <= k.ranges[r + 1];
  return hit !== k.negated;
}

/** Steps taken by all matches so far (states entered), for the tests' linearity checks. */
export const globWork = { states: 0 };

function run(g: Compiled, chars: Int32Array): boolean {
  const { kind, arg, next, e1, e2, mark, stack } = g;
  let cur = g.setA;
  let nxt = g.setB;
  let nCur = 0;
  let nNxt = 0;
  // generations number the steps of all runs, so the marks are never cleared
  if (g.gen > 0x3fff0000 - chars.length) {
    mark.fill(-1);
    g.gen = 0;
  }
  let gen = g.gen++;
  let work = 0;
  for (let i = -1; i < chars.length; i++) {
    const c = i < 0 ? -1 : chars[i];
    nNxt = 0;
    // the states reached over the character (or the start state), each with
    // what its empty edges reach, each entered once per step
    for (let j = i < 0 ? -1 : 0; j < nCur; j++) {
      let s: number;
      if (j < 0) s = 0;
      else {
        const x = cur[j];
        const a = arg[x];
        let ok: boolean;
        switch (kind[x]) {
          case K_LIT: ok = c === a; break;
          case K_ONE: ok = c !== SLASH; break;
          case K_ANY: ok = true; break;
          case K_CLASS: ok = inClass(g.classes[a], c); break;
          default: ok = false;
        }
        if (!ok) continue;
        s = next[x];
      }
      let sp = 0;
      stack[sp++] = s;
      while (sp > 0) {
        const y = stack[--sp];
        if (mark[y] === gen) continue;
        mark[y] = gen;
        nxt[nNxt++] = y;
        if (e1[y] >= 0 && mark[e1[y]] !== gen) stack[sp++] = e1[y];
        if (e2[y] >= 0 && mark[e2[y]] !== gen) stack[sp++] = e2[y];
      }
    }
    work += nNxt;
    if (nNxt === 0) break;
    const t = cur;
    cur = nxt;
    nxt = t;
    nCur = nNxt;
    gen = g.gen++;
  }
  globWork.states += work;
  if (nNxt === 0) return false;
  for (let j = 0; j < nCur; j++) if (cur[j] === g.accept) return true;
  return false;
}

function hasPrefix(path: Uint8Array, prefix: Buffer): boolean {
  if (path.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}

// ---- the exported faces -------------------------------------------------------

/** Compile a glob; throws GlobError with a readable message when it is malformed. */
export function compileGlob(pattern: string): (path: Uint8Array) => boolean {
  const alts = expandBraces(pattern).map((a) => build(tokenize(a)));
  return (path: Uint8Array) => {
    const b = Buffer.from(path.buffer, path.byteOffset, path.byteLength);
    for (const g of alts) {
      if (!hasPrefix(b, g.prefix)) continue;
      if (run(g, decodeChars(b, g.prefix.length))) return true;
    }
    return false;
  };
}

/** Why a glob is malformed (a message for the configuration's FILE:LINE), or null. */
export function checkGlob(pattern: string): string | null {
  try {
    compileGlob(pattern);
    return null;
  } catch (e) {
    if (e instanceof GlobError) return `bad glob '${pattern}': ${e.message}`;
    throw e;
  }
}
