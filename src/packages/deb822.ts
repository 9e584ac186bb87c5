// Debian control-file stanzas (deb822): Packages indexes, dpkg's status file,
// Release files and .sources entries all share it. Pure: text in, stanzas
// out. Field names are matched case-insensitively (kept lower-cased);
// continuation lines (starting with a space or tab) are joined with "\n",
// their leading space removed and a lone "." read as an empty line. Comment
// lines (#) are skipped. Malformed lines are skipped, never thrown on: the
// evidence they would carry is then simply missing.
export type Stanza = Map<string, string>;

/** Every stanza of a control text, in order; visit() may stop early by returning false. */
export function eachStanza(text: string, visit: (s: Stanza) => boolean | void): void {
  let cur: Stanza = new Map();
  let last: string | null = null;
  const flush = (): boolean => {
    last = null;
    if (cur.size === 0) return true;
    const s = cur;
    cur = new Map();
    return visit(s) !== false;
  };
  let i = 0;
  const n = text.length;
  while (i <= n) {
    let j = text.indexOf("\n", i);
    if (j < 0) j = n;
    const line = text.charCodeAt(j - 1) === 13 ? text.slice(i, j - 1) : text.slice(i, j);
    i = j + 1;
    if (line.length === 0 || /^\s*$/.test(line)) {
      if (!flush()) return;
      continue;
    }
    const c = line.charCodeAt(0);
    if (c === 35) continue; // '#'
    if (c === 32 || c === 9) {
      if (last === null) continue;
      const rest = line.slice(1);
      cur.set(last, `${cur.get(last)}\n${rest.trim() === "." ? "" : rest}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) {
      last = null;
      continue;
    }
    last = line.slice(0, colon).trim().toLowerCase();
    cur.set(last, line.slice(colon + 1).trim());
  }
  flush();
}

export function parseStanzas(text: string): Stanza[] {
  const out: Stanza[] = [];
  eachStanza(text, (s) => void out.push(s));
  return out;
}

/** The non-empty lines of a multi-line field (its first line included when not empty). */
export function fieldLines(value: string | undefined): string[] {
  if (!value) return [];
  return value.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
}
