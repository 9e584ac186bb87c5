// POSIX extended regular expressions as GNU `grep -E` reads them in the C
// locale, parsed into an AST and re-emitted for two engines:
//   - JavaScript RegExp (backtracking, fast, used only for rules proven safe),
//   - RE2 syntax for re2js (linear time, no back-references).
//
// Subjects are "byte strings": JS strings whose every char is one byte
// (0..255, i.e. the line decoded as latin1). Everything here is written
// against the behaviour of GNU grep 3.8 observed with `LC_ALL=C grep -E`:
//
//   * `*`, `+`, `?` or a valid `{m,n}` with nothing to repeat (start of the
//     pattern, after `(` or `|`) repeat the empty string: a no-op. Inside a
//     group, a branch made only of such operators is an error ("(*)", "(a|*)").
//   * A repetition of an anchor (`^*`, `$+`) is the anchor when the minimum is
//     at least 1, and nothing when the minimum is 0.
//   * `{` starts an interval only when `{m}`, `{m,}`, `{,n}`, `{,}` or `{m,n}`
//     follows; text that is not numbers (`{x}`, `{ 1}`, `{1`, `{1,x}`) leaves
//     `{` literal; `{}`, `{2,1}` and `{1,2,3}` are errors; bounds above 32767
//     are "Regular expression too big".
//   * `^` and `$` are anchors wherever they stand (`a^b` never matches).
//   * An unmatched `)` is literal, an unmatched `(` is an error.
//   * `\w \W \s \S \b \B \< \> \` \'` are GNU operators; `\1`..`\9` are
//     back-references, valid only to a group already closed in the same
//     alternative (glibc's rule); every other escaped char is that char
//     (`\d` is "d", `\n` is "n"); a trailing `\` is an error.
//   * In brackets `\` is literal; `]` first is literal; `[:name:]`, `[=c=]`,
//     `[.c.]` (one char only); a range needs ordered plain endpoints; a range
//     directly followed by `-x` is an error; `[:alpha:]` used as a whole
//     bracket is an error, as in grep.
//   * `.` and `[^...]` match every byte but newline, including NUL and
//     bytes >= 0x80 (classes such as [[:alpha:]] are ASCII only).

export type CharSet = Uint8Array; // 256 entries, 1 = member

export type Node =
  | { t: "empty" }
  | { t: "set"; set: CharSet }
  | { t: "bol" }
  | { t: "eol" }
  | { t: "wordb" }
  | { t: "nwordb" }
  | { t: "wstart" }
  | { t: "wend" }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; alts: Node[] }
  | { t: "group"; n: number; body: Node }
  | { t: "rep"; min: number; max: number; body: Node } // max -1 = unbounded
  | { t: "bref"; n: number };

export interface ParsedEre {
  ast: Node;
  groups: number;
  hasBackref: boolean;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export const RE_DUP_MAX = 32767;

// ---------------------------------------------------------------- char sets

export function newSet(): CharSet {
  return new Uint8Array(256);
}
function setOf(...codes: number[]): CharSet {
  const s = newSet();
  for (const c of codes) s[c] = 1;
  return s;
}
function setRange(s: CharSet, lo: number, hi: number): void {
  for (let c = lo; c <= hi; c++) s[c] = 1;
}
export function setUnion(a: CharSet, b: CharSet): CharSet {
  const s = newSet();
  for (let i = 0; i < 256; i++) s[i] = a[i] | b[i];
  return s;
}
export function setIntersects(a: CharSet, b: CharSet): boolean {
  for (let i = 0; i < 256; i++) if (a[i] & b[i]) return true;
  return false;
}
export function setSize(a: CharSet): number {
  let n = 0;
  for (let i = 0; i < 256; i++) n += a[i];
  return n;
}
export function setKey(a: CharSet): string {
  const codes: number[] = [];
  for (let i = 0; i < 256; i += 8) {
    let b = 0;
    for (let j = 0; j < 8; j++) b |= a[i + j] << j;
    codes.push(b);
  }
  return String.fromCharCode(...codes);
}
function setNegate(a: CharSet): CharSet {
  const s = newSet();
  for (let i = 0; i < 256; i++) s[i] = a[i] ? 0 : 1;
  s[10] = 0; // [^...] never matches newline
  return s;
}
export function singleChar(a: CharSet): number {
  let found = -1;
  for (let i = 0; i < 256; i++) {
    if (a[i]) {
      if (found >= 0) return -1;
      found = i;
    }
  }
  return found;
}

// POSIX classes in the C locale (ASCII only).
function classSet(name: string): CharSet | null {
  const s = newSet();
  const pred: Record<string, (c: number) => boolean> = {
    alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
    digit: (c) => c >= 48 && c <= 57,
    alnum: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57),
    upper: (c) => c >= 65 && c <= 90,
    lower: (c) => c >= 97 && c <= 122,
    space: (c) => c === 32 || (c >= 9 && c <= 13),
    blank: (c) => c === 32 || c === 9,
    punct: (c) => c >= 33 && c <= 126 && !((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)),
    print: (c) => c >= 32 && c <= 126,
    graph: (c) => c >= 33 && c <= 126,
    cntrl: (c) => c < 32 || c === 127,
    xdigit: (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
  };
  const p = pred[name];
  if (!p) return null;
  for (let c = 0; c < 256; c++) if (p(c)) s[c] = 1;
  return s;
}

export const WORD: CharSet = (() => {
  const s = classSet("alnum")!;
  s[95] = 1;
  return s;
})();
const NOT_WORD: CharSet = (() => {
  const s = newSet();
  for (let i = 0; i < 256; i++) s[i] = WORD[i] ? 0 : 1;
  return s;
})();
const SPACE: CharSet = classSet("space")!;
const NOT_SPACE: CharSet = (() => {
  const s = newSet();
  for (let i = 0; i < 256; i++) s[i] = SPACE[i] ? 0 : 1;
  return s;
})();
const DOT: CharSet = (() => {
  const s = newSet();
  setRange(s, 0, 255);
  s[10] = 0;
  return s;
})();

// ---------------------------------------------------------------- parser

class ParseError extends Error {}

const EMPTY: Node = { t: "empty" };

function isZeroWidth(n: Node): boolean {
  return n.t === "bol" || n.t === "eol" || n.t === "wordb" || n.t === "nwordb" || n.t === "wstart" || n.t === "wend" || n.t === "empty";
}

/** Parse one pattern (one line of a rule file, without the newline). */
export function parseEre(src: string): Result<ParsedEre> {
  try {
    const p = new Parser(src);
    const ast = p.parseTop();
    return { ok: true, value: { ast, groups: p.groupCount, hasBackref: p.hasBackref } };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message };
    return { ok: false, error: "internal error: " + String((e as Error)?.message ?? e) };
  }
}

class Parser {
  pos = 0;
  groupCount = 0;
  hasBackref = false;
  completed = new Set<number>();
  constructor(readonly s: string) {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 255) throw new ParseError("pattern holds a character outside 0-255 (read rules as bytes)");
    }
  }

  parseTop(): Node {
    const n = this.parseAlt(0);
    if (this.pos < this.s.length) throw new ParseError("internal: unparsed input");
    return n;
  }

  parseAlt(depth: number): Node {
    const initial = new Set(this.completed);
    const alts: Node[] = [];
    let accumulated = new Set<number>();
    for (;;) {
      this.completed = new Set(initial);
      alts.push(this.parseBranch(depth));
      for (const g of this.completed) accumulated.add(g);
      if (this.pos < this.s.length && this.s[this.pos] === "|") {
        this.pos++;
        continue;
      }
      break;
    }
    this.completed = accumulated;
    return alts.length === 1 ? alts[0] : { t: "alt", alts };
  }

  // Try to read a repetition operator at this.pos; returns null if none.
  readRepOp(): { min: number; max: number } | null {
    const c = this.s[this.pos];
    if (c === "*") { this.pos++; return { min: 0, max: -1 }; }
    if (c === "+") { this.pos++; return { min: 1, max: -1 }; }
    if (c === "?") { this.pos++; return { min: 0, max: 1 }; }
    if (c === "{") {
      const iv = this.readInterval(this.pos + 1);
      if (iv === null) return null; // literal '{'
      this.pos = iv.end;
      return { min: iv.min, max: iv.max };
    }
    return null;
  }

  // Interval after '{' at index i. null = not an interval ('{' is literal).
  readInterval(i: number): { min: number; max: number; end: number } | null {
    const s = this.s;
    const num = (from: number): { v: number; stop: number; term: string } => {
      // v: -1 none, -2 not a number; term: '}' ',' or '' (end of pattern)
      let v = -1;
      let j = from;
      for (; j < s.length; j++) {
        const ch = s[j];
        if (ch === "}" || ch === ",") return { v, stop: j, term: ch };
        const d = ch.charCodeAt(0) - 48;
        if (d < 0 || d > 9 || v === -2) v = -2;
        else v = v === -1 ? d : Math.min(RE_DUP_MAX + 1, v * 10 + d);
      }
      return { v, stop: j, term: "" };
    };
    const a = num(i);
    if (a.term === "") return null;
    let min = a.v;
    let max: number;
    let j: number;
    if (a.term === ",") {
      if (min === -1) min = 0;
      const b = num(a.stop + 1);
      if (b.term === "") return null;
      if (min === -2 || b.v === -2) return null;
      if (b.term === ",") throw new ParseError("Invalid content of \\{\\}");
      max = b.v; // -1 = unbounded
      j = b.stop + 1;
    } else {
      if (min === -1) throw new ParseError("Invalid content of \\{\\}");
      if (min === -2) return null;
      max = min;
      j = a.stop + 1;
    }
    if (max !== -1 && min > max) throw new ParseError("Invalid content of \\{\\}");
    if ((max === -1 ? min : max) > RE_DUP_MAX) throw new ParseError("Regular expression too big");
    return { min, max, end: j };
  }

  parseBranch(depth: number): Node {
    const items: Node[] = [];
    const s = this.s;
    // leading repetition operators repeat nothing
    let leading = false;
    while (this.pos < s.length) {
      const save = this.pos;
      if (this.readRepOp() === null) { this.pos = save; break; }
      leading = true;
    }
    if (leading && depth > 0 && (this.pos >= s.length || s[this.pos] === ")" || s[this.pos] === "|")) {
      throw new ParseError("Unmatched ( or \\(");
    }
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === "|") break;
      if (c === ")" && depth > 0) break;
      let atom = this.parseAtom(depth);
      for (;;) {
        if (this.pos >= s.length) break;
        const save = this.pos;
        const op = this.readRepOp();
        if (op === null) { this.pos = save; break; }
        if (isZeroWidth(atom)) {
          if (op.min === 0) atom = EMPTY;
        } else {
          atom = { t: "rep", min: op.min, max: op.max, body: atom };
        }
      }
      if (atom.t !== "empty") items.push(atom);
    }
    if (items.length === 0) return EMPTY;
    return items.length === 1 ? items[0] : { t: "cat", items };
  }

  parseAtom(depth: number): Node {
    const s = this.s;
    const c = s[this.pos];
    switch (c) {
      case "(": {
        this.pos++;
        const n = ++this.groupCount;
        const body = this.parseAlt(depth + 1);
        if (this.pos >= s.length || s[this.pos] !== ")") throw new ParseError("Unmatched ( or \\(");
        this.pos++;
        this.completed.add(n);
        return { t: "group", n, body };
      }
      case "[":
        return this.parseBracket();
      case ".":
        this.pos++;
        return { t: "set", set: DOT };
      case "^":
        this.pos++;
        return { t: "bol" };
      case "$":
        this.pos++;
        return { t: "eol" };
      case "\\": {
        if (this.pos + 1 >= s.length) throw new ParseError("Trailing backslash");
        const e = s[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case "w": return { t: "set", set: WORD };
          case "W": return { t: "set", set: NOT_WORD };
          case "s": return { t: "set", set: SPACE };
          case "S": return { t: "set", set: NOT_SPACE };
          case "b": return { t: "wordb" };
          case "B": return { t: "nwordb" };
          case "<": return { t: "wstart" };
          case ">": return { t: "wend" };
          case "`": return { t: "bol" };
          case "'": return { t: "eol" };
        }
        if (e >= "1" && e <= "9") {
          const n = e.charCodeAt(0) - 48;
          if (!this.completed.has(n)) throw new ParseError("Invalid back reference");
          this.hasBackref = true;
          return { t: "bref", n };
        }
        return { t: "set", set: setOf(e.charCodeAt(0)) };
      }
      case "{": {
        // here '{' follows an atom position; a valid interval would have been
        // consumed as an operator, so at atom position only a leading one can
        // be valid (handled in parseBranch). Anything else is literal.
        this.pos++;
        return { t: "set", set: setOf(123) };
      }
      default:
        this.pos++;
        return { t: "set", set: setOf(c.charCodeAt(0)) };
    }
  }

  parseBracket(): Node {
    const s = this.s;
    const open = this.pos;
    let i = this.pos + 1;
    let negate = false;
    if (i < s.length && s[i] === "^") { negate = true; i++; }
    const contentStart = i;
    const set = newSet();
    let first = true;
    let lastWasRange = false;
    const unmatched = () => new ParseError("Unmatched [, [^, [:, [., or [=");
    // read one element: returns {kind, code or set}
    type Elem = { kind: "char"; code: number } | { kind: "class"; set: CharSet } | { kind: "equiv"; code: number };
    const readElem = (): Elem => {
      if (i >= s.length) throw unmatched();
      const ch = s[i];
      if (ch === "[" && i + 1 < s.length && (s[i + 1] === ":" || s[i + 1] === "=" || s[i + 1] === ".")) {
        const delim = s[i + 1];
        let j = i + 2;
        let name = "";
        for (;;) {
          if (j >= s.length || name.length >= 32) throw unmatched();
          if (s[j] === delim && j + 1 < s.length && s[j + 1] === "]") break;
          name += s[j];
          j++;
        }
        i = j + 2;
        if (delim === ":") {
          const cs = classSet(name);
          if (!cs) throw new ParseError("Invalid character class name");
          return { kind: "class", set: cs };
        }
        if (name.length !== 1) throw new ParseError("Invalid collation character");
        return delim === "=" ? { kind: "equiv", code: name.charCodeAt(0) } : { kind: "char", code: name.charCodeAt(0) };
      }
      i++;
      return { kind: "char", code: ch.charCodeAt(0) };
    };
    for (;;) {
      if (i >= s.length) throw unmatched();
      if (s[i] === "]" && !first) { i++; break; }
      first = false;
      const el = readElem();
      // range?
      if (i + 1 < s.length && s[i] === "-" && s[i + 1] !== "]") {
        if (lastWasRange && el.kind === "char" && el.code === 45) {
          // "a-c-e": '-' after a range starting another range
        }
        i++;
        const hi = readElem();
        if (el.kind !== "char" || hi.kind !== "char") throw new ParseError("Invalid range end");
        if (hi.code < el.code) throw new ParseError("Invalid range end");
        setRange(set, el.code, hi.code);
        if (i < s.length && s[i] === "-" && i + 1 < s.length && s[i + 1] !== "]") throw new ParseError("Invalid range end");
        lastWasRange = true;
        continue;
      }
      lastWasRange = false;
      if (el.kind === "class") {
        for (let k = 0; k < 256; k++) if (el.set[k]) set[k] = 1;
      } else {
        set[el.code] = 1;
      }
    }
    // grep refuses "[:alpha:]" written without the outer brackets
    const content = s.slice(contentStart, i - 1);
    if (content.length >= 3 && content[0] === ":" && content[content.length - 1] === ":" && /[^:]/.test(content)) {
      throw new ParseError("character class syntax is [[:space:]], not [:space:]");
    }
    void open;
    this.pos = i;
    return { t: "set", set: negate ? setNegate(set) : set };
  }
}

// ---------------------------------------------------------------- analysis helpers

export interface FirstInfo {
  first: CharSet; // chars that can start a non-empty match
  nullable: boolean; // can match the empty string (assertions count as empty)
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
    case "alt": {
      let first = newSet();
      let nullable = false;
      for (const a of n.alts) {
        const f = firstOf(a);
        first = setUnion(first, f.first);
        nullable ||= f.nullable;
      }
      return { first, nullable };
    }
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
    case "alt": {
      let first = newSet();
      let nullable = false;
      for (const a of n.alts) {
        const f = lastOf(a);
        first = setUnion(first, f.first);
        nullable ||= f.nullable;
      }
      return { first, nullable };
    }
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

// ---------------------------------------------------------------- emitters

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

// ---------------------------------------------------------------- backtracking safety

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
        let overlap = false;
        for (let i = 0; i < firsts.length && !overlap; i++)
          for (let j = i + 1; j < firsts.length; j++)
            if (setIntersects(firsts[i], firsts[j])) { overlap = true; break; }
        const nullables = n.alts.filter((a) => firstOf(a).nullable).length;
        if ((overlap || nullables > 1) && !decidedByPrefix(n.alts)) ambiguity *= n.alts.length;
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
  walk(ast, EMPTYSET, { n: 20000 });
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
