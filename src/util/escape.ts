// Printable forms of hostile bytes: file names and log lines may hold anything.

const HEX = (b: number) => "\\x" + b.toString(16).padStart(2, "0");
const NAMED: Record<number, string> = { 0x0a: "\\n", 0x09: "\\t", 0x0d: "\\r", 0x5c: "\\\\" };

/**
 * Escape a byte string for reports: valid UTF-8 stays readable; control bytes,
 * DEL, C1 controls and every byte of invalid UTF-8 become \n, \t, \r, \\ or \xNN;
 * code points that reorder or hide text (isHidden) become \uNNNN.
 * Backslash itself is doubled so the escaping is unambiguous.
 */
export function escapeBytes(buf: Uint8Array): string {
  let out = "";
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i];
    if (b >= 0x20 && b < 0x7f) {
      out += b === 0x5c ? "\\\\" : String.fromCharCode(b);
      i++;
      continue;
    }
    if (b < 0x80) {
      out += NAMED[b] ?? HEX(b);
      i++;
      continue;
    }
    // multi-byte UTF-8: validate strictly (no overlongs, no surrogates, <= U+10FFFF)
    let len = 0, cp = 0, min = 0;
    if (b >= 0xc2 && b <= 0xdf) { len = 2; cp = b & 0x1f; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { len = 3; cp = b & 0x0f; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { len = 4; cp = b & 0x07; min = 0x10000; }
    let ok = len > 0 && i + len <= n;
    for (let k = 1; ok && k < len; k++) {
      const c = buf[i + k];
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (ok && cp >= 0x80 && cp < 0xa0) ok = false; // C1 controls
    if (ok && isHidden(cp)) {
      out += `\\u${cp.toString(16).padStart(4, "0")}`;
      i += len;
      continue;
    }
    if (!ok) {
      out += HEX(b);
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += len;
  }
  return out;
}

/**
 * Code points that reorder or hide text on a terminal or in a mail reader:
 * bidirectional controls (a name with U+202E shows its end reversed), line and
 * paragraph separators, zero-width characters and the BOM. Shown as \uNNNN.
 */
function isHidden(cp: number): boolean {
  return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x061c || cp === 0xfeff;
}

/** Escape a latin1 "byte string" (one char per byte), as log lines are held. */
export function escapeLatin1(s: string): string {
  return escapeBytes(Buffer.from(s, "latin1"));
}

/** Escape a JS string by its UTF-8 encoding. */
export function escapeString(s: string): string {
  return escapeBytes(Buffer.from(s, "utf8"));
}

/**
 * Escape the control characters of text that is already printable (event
 * texts, titles): C0 controls but TAB, DEL and C1 become \xNN; bidirectional
 * controls, separators and zero-width characters become \uNNNN. Backslashes are left as they are (the text may hold escapes).
 */
export function escapeControls(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

/** Text as safe lines for a report body or a terminal: split on LF, controls escaped. */
export function safeLines(text: string): string[] {
  return String(text).split("\n").map(escapeControls);
}

/**
 * The inverse of escapeBytes: the original bytes of an escaped text (\\, \n,
 * \t, \r, \xNN, \uNNNN undone; every other character as its UTF-8). A
 * backslash that starts no escape escapeBytes makes stays as it is.
 */
export function unescapeBytes(s: string): Uint8Array {
  if (!s.includes("\\")) return Buffer.from(s, "utf8");
  const out: number[] = [];
  const put = (t: string) => {
    for (const b of Buffer.from(t, "utf8")) out.push(b);
  };
  let i = 0;
  while (i < s.length) {
    const j = s.indexOf("\\", i);
    if (j < 0) {
      put(s.slice(i));
      break;
    }
    put(s.slice(i, j));
    const c = s[j + 1];
    const hex = (n: number) => (/^[0-9a-f]+$/.test(s.slice(j + 2, j + 2 + n)) && j + 2 + n <= s.length ? parseInt(s.slice(j + 2, j + 2 + n), 16) : -1);
    if (c === "\\") { out.push(0x5c); i = j + 2; }
    else if (c === "n") { out.push(0x0a); i = j + 2; }
    else if (c === "t") { out.push(0x09); i = j + 2; }
    else if (c === "r") { out.push(0x0d); i = j + 2; }
    else if (c === "x" && hex(2) >= 0) { out.push(hex(2)); i = j + 4; }
    else if (c === "u" && hex(4) >= 0) { put(String.fromCodePoint(hex(4))); i = j + 6; }
    else { out.push(0x5c); i = j + 1; }
  }
  return Uint8Array.from(out);
}
