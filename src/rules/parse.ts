// The ERE parser: POSIX extended regular expressions as GNU `grep -E` reads
// them in the C locale, parsed into an AST (Node). The AST is what every
// other part of the rule engine works on: safety.ts analyses it, emit.ts
// re-emits it for JavaScript RegExp and re2js, dfa.ts runs it, paths.ts
// reads dispatch paths from it. Parse errors carry grep's own messages.
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

import { type CharSet, classSet, DOT, newSet, NOT_SPACE, NOT_WORD, ONE_BYTE, setNegate, setRange, SPACE, WORD } from "./charset.ts";

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

class ParseError extends Error {}

/** The empty pattern (matches the empty string). */
export const EMPTY: Node = { t: "empty" };

/** An assertion or the empty pattern: matches no byte. */
export function isZeroWidth(n: Node): boolean {
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
        return { t: "set", set: ONE_BYTE[e.charCodeAt(0)] };
      }
      case "{": {
        // here '{' follows an atom position; a valid interval would have been
        // consumed as an operator, so at atom position only a leading one can
        // be valid (handled in parseBranch). Anything else is literal.
        this.pos++;
        return { t: "set", set: ONE_BYTE[123] };
      }
      default:
        this.pos++;
        return { t: "set", set: ONE_BYTE[c.charCodeAt(0)] };
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
