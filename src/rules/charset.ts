// Byte sets: a rule matches byte strings (every char 0..255), and every
// single-byte piece of a pattern (a literal, `.`, a bracket, `\w`) is a set
// of bytes held as 256 flags. Set operations, and the POSIX classes of the C
// locale (ASCII only) that brackets and GNU's `\w \s` name.

export type CharSet = Uint8Array; // 256 entries, 1 = member

export function newSet(): CharSet {
  return new Uint8Array(256);
}
export function setOf(...codes: number[]): CharSet {
  const s = newSet();
  for (const c of codes) s[c] = 1;
  return s;
}
/** One shared set per byte, for literal bytes in parsed rules. Never modify one. */
export const ONE_BYTE: readonly CharSet[] = Array.from({ length: 256 }, (_, c) => setOf(c));
export function setRange(s: CharSet, lo: number, hi: number): void {
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
/**
 * Distinct byte sets numbered in the order first met, for a table written
 * once (the flat trie's, the snapshot's): a set object already met is found
 * by identity (most are shared objects), another by its content (setKey).
 */
export class SetTable {
  readonly list: CharSet[] = [];
  private readonly byObject = new Map<CharSet, number>();
  private readonly byKey = new Map<string, number>();

  index(s: CharSet): number {
    let i = this.byObject.get(s);
    if (i !== undefined) return i;
    const k = setKey(s);
    i = this.byKey.get(k);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.byKey.set(k, i);
    }
    this.byObject.set(s, i);
    return i;
  }
}

export function setNegate(a: CharSet): CharSet {
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
export function classSet(name: string): CharSet | null {
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
export const NOT_WORD: CharSet = (() => {
  const s = newSet();
  for (let i = 0; i < 256; i++) s[i] = WORD[i] ? 0 : 1;
  return s;
})();
export const SPACE: CharSet = classSet("space")!;
export const NOT_SPACE: CharSet = (() => {
  const s = newSet();
  for (let i = 0; i < 256; i++) s[i] = SPACE[i] ? 0 : 1;
  return s;
})();
export const DOT: CharSet = (() => {
  const s = newSet();
  setRange(s, 0, 255);
  s[10] = 0;
  return s;
})();
