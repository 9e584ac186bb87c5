// A streaming parser of journalctl's export format (`journalctl -o export`,
// systemd's "Journal Export Format"): entries of fields, one entry ended by
// an empty line; a field is `NAME=value\n` (text without newlines) or, for
// any other value, `NAME\n` + its length as 64-bit little-endian + the raw
// bytes + `\n`. Bytes are fed as they come from the pipe (any split, even
// inside a length); complete entries come out. Values are never decoded:
// binary fields and invalid UTF-8 survive byte for byte.
//
// Speed (bench/journal): the bytes are scanned in place by a plain loop (in
// Bun a JS byte loop beats Buffer.indexOf per line); a field is a span of the
// chunk it came in, kept in a reused Int32Array while the entry is read (no per-field arrays,
// strings or Buffers); a field is decoded only when asked for by name
// (`text`, `get`), and names are compared in place, byte by byte. Chunks are
// never copied: only the line that straddles two chunks is (rest + the bytes
// that complete it).
//
// Bounds: a value longer than MAX_FIELD bytes keeps its first MAX_FIELD bytes
// and is listed in `cut`; the rest is skipped as it streams by, so one huge
// field never sits in memory. A stream that breaks the format (a binary field
// not followed by its newline) throws ExportError: the reader restarts
// journalctl from the last committed cursor.

/** Longest value kept of one field (the rest is skipped); logcheck lines are cut at 64 KiB too. */
export const MAX_FIELD = 64 * 1024;

/** Int32 slots per field: name start, name length, value start, value end. */
const SLOTS = 4;

/**
 * One entry: its fields in stream order, each a span of the bytes read.
 * A field given twice: the last wins.
 */
export class JournalEntry {
  /** fields whose value was longer than MAX_FIELD and is cut */
  readonly cut: string[] = [];

  /**
   * (parser) `spans`: SLOTS numbers per field; `buf`: the buffer of every
   * field, or `bufs`: one per field when they came in different buffers.
   */
  constructor(private readonly spans: Int32Array, private readonly buf: Buffer, private readonly bufs: Buffer[] | null) {}

  get size(): number {
    return this.spans.length / SLOTS;
  }

  private bufOf(k: number): Buffer {
    return this.bufs !== null ? this.bufs[k] : this.buf;
  }

  private find(name: string): number {
    const p = this.spans;
    const len = name.length;
    const c0 = name.charCodeAt(0);
    const cl = name.charCodeAt(len - 1);
    for (let k = this.size - 1; k >= 0; k--) {
      const o = k * SLOTS;
      if (p[o + 1] !== len) continue;
      const b = this.bufOf(k);
      const n = p[o];
      if (b[n] !== c0 || b[n + len - 1] !== cl) continue;
      let i = 1;
      while (i < len - 1 && b[n + i] === name.charCodeAt(i)) i++;
      if (i >= len - 1) return k;
    }
    return -1;
  }

  /** The value as a latin1 string (one char per byte), or undefined. */
  text(name: string): string | undefined {
    const k = this.find(name);
    if (k < 0) return undefined;
    const o = k * SLOTS;
    return this.bufOf(k).toString("latin1", this.spans[o + 2], this.spans[o + 3]);
  }

  has(name: string): boolean {
    return this.find(name) >= 0;
  }

  /** The value as a whole number (decimal digits only, up to 2^53), or null. */
  int(name: string): number | null {
    const k = this.find(name);
    if (k < 0) return null;
    const o = k * SLOTS;
    const b = this.bufOf(k);
    const a = this.spans[o + 2];
    const end = this.spans[o + 3];
    if (end === a || end - a > 16) return null;
    let n = 0;
    for (let i = a; i < end; i++) {
      const d = b[i] - 48;
      if (d < 0 || d > 9) return null;
      n = n * 10 + d;
    }
    return n <= Number.MAX_SAFE_INTEGER ? n : null;
  }

  /** Whether the field is there with exactly the bytes of `value` (latin1), without decoding it. */
  is(name: string, value: string): boolean {
    const k = this.find(name);
    if (k < 0) return false;
    const o = k * SLOTS;
    const a = this.spans[o + 2];
    if (this.spans[o + 3] - a !== value.length) return false;
    const b = this.bufOf(k);
    for (let i = 0; i < value.length; i++) if (b[a + i] !== value.charCodeAt(i)) return false;
    return true;
  }

  /** The value's bytes, or undefined. */
  get(name: string): Buffer | undefined {
    const k = this.find(name);
    if (k < 0) return undefined;
    const o = k * SLOTS;
    return this.bufOf(k).subarray(this.spans[o + 2], this.spans[o + 3]);
  }

  /** Every field in stream order (a repeated name appears each time). */
  *all(): Generator<[string, Buffer]> {
    for (let k = 0; k < this.size; k++) {
      const o = k * SLOTS;
      const b = this.bufOf(k);
      yield [b.toString("latin1", this.spans[o], this.spans[o] + this.spans[o + 1]), b.subarray(this.spans[o + 2], this.spans[o + 3])];
    }
  }
}

export class ExportError extends Error {}

const EMPTY = Buffer.alloc(0);

/** Index of the next newline in buf[from, end), or -1. */
function newline(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === 10) return i;
  return -1;
}

export class ExportParser {
  /** the start of a line not complete yet (a view, or a copy when it straddled chunks) */
  private rest: Buffer = EMPTY;
  /** bytes `rest` must reach before it can be parsed further; 0: up to the next newline */
  private need = 0;
  /** the entry being read: its fields' spans and buffers */
  private spans = new Int32Array(64 * SLOTS);
  private fields = 0;
  private buf: Buffer = EMPTY;
  private bufs: Buffer[] | null = null;
  private cut: string[] = [];
  /** bytes of an over-long binary value still to skip, then its newline */
  private skip = 0;
  private expectNl = false;
  /** inside an over-long text field: skip to its newline */
  private skipLine = false;

  /** Feed bytes; the entries completed by them. */
  push(chunk: Uint8Array): JournalEntry[] {
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: JournalEntry[] = [];
    let p = 0;
    // the line that straddles the previous chunk and this one: copy just the bytes that complete it
    while (this.rest.length > 0 && p < c.length) {
      let want: number;
      if (this.need > this.rest.length) want = this.need - this.rest.length;
      else {
        const nl = newline(c, p, c.length);
        want = nl < 0 ? c.length - p : nl + 1 - p;
      }
      want = Math.min(want, c.length - p);
      const joined = Buffer.concat([this.rest, c.subarray(p, p + want)]);
      p += want;
      this.scan(joined, 0, out);
    }
    if (p < c.length) this.scan(c, p, out);
    return out;
  }

  private add(buf: Buffer, name: number, nameLen: number, start: number, end: number): void {
    const n = this.fields;
    if ((n + 1) * SLOTS > this.spans.length) {
      const more = new Int32Array(this.spans.length * 2);
      more.set(this.spans);
      this.spans = more;
    }
    const o = n * SLOTS;
    this.spans[o] = name;
    this.spans[o + 1] = nameLen;
    this.spans[o + 2] = start;
    this.spans[o + 3] = end;
    if (n === 0) this.buf = buf;
    else if (this.bufs !== null) this.bufs.push(buf);
    else if (buf !== this.buf) {
      this.bufs = new Array<Buffer>(n).fill(this.buf);
      this.bufs.push(buf);
    }
    this.fields = n + 1;
  }

  /** The entry read so far, complete: its own copy of the spans (the scratch is reused). */
  private finish(): JournalEntry {
    const e = new JournalEntry(this.spans.slice(0, this.fields * SLOTS), this.buf, this.bufs);
    e.cut.push(...this.cut);
    this.fields = 0;
    this.buf = EMPTY;
    this.bufs = null;
    this.cut = [];
    return e;
  }

  /** Parse buf from pos; what is left (a line not complete) becomes `rest`, with `need`. */
  private scan(buf: Buffer, pos: number, out: JournalEntry[]): void {
    // scanned as a plain Uint8Array: the JIT handles it better than a Buffer
    const u = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    const len = u.length;
    let need = 0;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        pos += n;
        this.skip -= n;
        if (this.skip > 0) break;
      }
      if (this.expectNl) {
        if (pos >= len) break;
        if (u[pos] !== 10) throw new ExportError("export stream: a binary field is not followed by a newline");
        pos++;
        this.expectNl = false;
      }
      if (this.skipLine) {
        const nl = newline(u, pos, len);
        if (nl < 0) {
          pos = len;
          break;
        }
        pos = nl + 1;
        this.skipLine = false;
      }
      if (pos >= len) break;
      if (u[pos] === 10) {
        // the empty line: the entry is complete
        pos++;
        if (this.fields > 0) out.push(this.finish());
        continue;
      }
      // the name: up to '=' (a text field) or a newline (a binary field)
      let i = pos;
      const nameEnd = Math.min(len, pos + 257);
      while (i < nameEnd && u[i] !== 61 && u[i] !== 10) i++;
      if (i - pos > 256) throw new ExportError("export stream: a field name longer than 256 bytes");
      if (i >= len) break; // wait for the rest of the line
      if (u[i] === 61) {
        const nl = newline(u, i + 1, Math.min(len, i + 2 + MAX_FIELD));
        if (nl < 0) {
          if (len - i - 1 <= MAX_FIELD) break; // wait for the rest of the line
          // an over-long text field: keep its start, skip the rest
          this.keepCut(buf, pos, i - pos, i + 1);
          this.skipLine = true;
          pos = i + 1 + MAX_FIELD;
          continue;
        }
        this.add(buf, pos, i - pos, i + 1, nl);
        pos = nl + 1;
        continue;
      }
      // a binary field: NAME\n, 64-bit LE length, bytes, \n
      const nl = i;
      if (len < nl + 9) {
        need = nl + 9 - pos;
        break;
      }
      let size = 0;
      for (let k = 8; k >= 1; k--) size = size * 256 + u[nl + k];
      const start = nl + 9;
      if (size > MAX_FIELD) {
        if (len < start + MAX_FIELD) {
          need = start + MAX_FIELD - pos;
          break;
        }
        this.keepCut(buf, pos, nl - pos, start);
        this.skip = size - MAX_FIELD;
        this.expectNl = true;
        pos = start + MAX_FIELD;
        continue;
      }
      if (len < start + size + 1) {
        need = start + size + 1 - pos;
        break;
      }
      if (u[start + size] !== 10) throw new ExportError("export stream: a binary field is not followed by a newline");
      this.add(buf, pos, nl - pos, start, start + size);
      pos = start + size + 1;
    }
    this.rest = pos >= len ? EMPTY : buf.subarray(pos);
    this.need = need;
  }

  /** Keep the first MAX_FIELD bytes of a value (copied; the rest is skipped). */
  private keepCut(buf: Buffer, name: number, nameLen: number, start: number): void {
    const v = Buffer.concat([buf.subarray(name, name + nameLen), Buffer.from("="), buf.subarray(start, start + MAX_FIELD)]);
    this.add(v, 0, nameLen, nameLen + 1, v.length);
    this.cut.push(v.toString("latin1", 0, nameLen));
  }

  /** Bytes held waiting for the rest of an entry's line. */
  get buffered(): number {
    return this.rest.length;
  }
}
