// A streaming parser of journalctl's export format (`journalctl -o export`,
// systemd's "Journal Export Format"): entries of fields, one entry ended by
// an empty line; a field is `NAME=value\n` (text without newlines) or, for
// any other value, `NAME\n` + its length as 64-bit little-endian + the raw
// bytes + `\n`. Bytes are fed as they come from the pipe (any split, even
// inside a length); complete entries come out. No decoding is done: values
// stay bytes (binary fields and invalid UTF-8 survive as they are).
//
// Bounds: a value longer than MAX_FIELD bytes keeps its first MAX_FIELD bytes
// and is listed in `cut`; the rest is skipped as it streams by, so one huge
// field never sits in memory. A stream that breaks the format (a binary field
// not followed by its newline) throws ExportError: the reader restarts
// journalctl from the last committed cursor.

/** Longest value kept of one field (the rest is skipped); logcheck lines are cut at 64 KiB too. */
export const MAX_FIELD = 64 * 1024;

export interface JournalEntry {
  /** field name → value bytes (a field given twice keeps its last value) */
  fields: Map<string, Buffer>;
  /** fields whose value was longer than MAX_FIELD and is cut */
  cut: string[];
}

export class ExportError extends Error {}

const EMPTY = Buffer.alloc(0);
const NL = 10;
const EQ = 61;

export class ExportParser {
  private buf: Buffer = EMPTY;
  private fields = new Map<string, Buffer>();
  private cut: string[] = [];
  /** bytes of an over-long binary value still to skip, then its newline */
  private skip = 0;
  private expectNl = false;
  /** inside an over-long text field: skip to its newline */
  private skipLine = false;

  /** Feed bytes; the entries completed by them. */
  push(chunk: Uint8Array): JournalEntry[] {
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
    const out: JournalEntry[] = [];
    const len = buf.length;
    let pos = 0;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        pos += n;
        this.skip -= n;
        if (this.skip > 0) break;
      }
      if (this.expectNl) {
        if (pos >= len) break;
        if (buf[pos] !== NL) throw new ExportError("export stream: a binary field is not followed by a newline");
        pos++;
        this.expectNl = false;
      }
      if (this.skipLine) {
        const nl = buf.indexOf(NL, pos);
        if (nl < 0) {
          pos = len;
          break;
        }
        pos = nl + 1;
        this.skipLine = false;
      }
      if (pos >= len) break;
      const nl = buf.indexOf(NL, pos);
      if (nl === pos) {
        // the empty line: the entry is complete
        pos++;
        if (this.fields.size > 0) out.push({ fields: this.fields, cut: this.cut });
        this.fields = new Map();
        this.cut = [];
        continue;
      }
      if (nl < 0) {
        if (len - pos <= MAX_FIELD + 256) break; // wait for the rest of the line
        // an over-long text field: keep its start, skip the rest
        const eq = buf.indexOf(EQ, pos);
        if (eq < 0 || eq > pos + 256) throw new ExportError("export stream: a field name without '=' or newline");
        const name = buf.toString("latin1", pos, eq);
        this.fields.set(name, Buffer.from(buf.subarray(eq + 1, eq + 1 + MAX_FIELD)));
        this.cut.push(name);
        this.skipLine = true;
        pos = len;
        break;
      }
      const eq = buf.indexOf(EQ, pos);
      if (eq >= 0 && eq < nl) {
        const name = buf.toString("latin1", pos, eq);
        if (nl - eq - 1 > MAX_FIELD) {
          this.fields.set(name, Buffer.from(buf.subarray(eq + 1, eq + 1 + MAX_FIELD)));
          this.cut.push(name);
        } else this.fields.set(name, buf.subarray(eq + 1, nl));
        pos = nl + 1;
        continue;
      }
      // a binary field: NAME\n, 64-bit LE length, bytes, \n
      if (len < nl + 9) break;
      const size = buf.readUInt32LE(nl + 1) + buf.readUInt32LE(nl + 5) * 2 ** 32;
      const start = nl + 9;
      const name = buf.toString("latin1", pos, nl);
      if (size > MAX_FIELD) {
        if (len < start + MAX_FIELD) break;
        this.fields.set(name, Buffer.from(buf.subarray(start, start + MAX_FIELD)));
        this.cut.push(name);
        this.skip = size - MAX_FIELD;
        this.expectNl = true;
        pos = start + MAX_FIELD;
        continue;
      }
      if (len < start + size + 1) break;
      if (buf[start + size] !== NL) throw new ExportError("export stream: a binary field is not followed by a newline");
      this.fields.set(name, buf.subarray(start, start + size));
      pos = start + size + 1;
    }
    this.buf = pos >= len ? EMPTY : buf.subarray(pos);
    return out;
  }

  /** Bytes held waiting for the rest of an entry's line. */
  get buffered(): number {
    return this.buf.length;
  }
}

/** A field as a latin1 string (one char per byte), or undefined. */
export function field(e: JournalEntry, name: string): string | undefined {
  const v = e.fields.get(name);
  return v === undefined ? undefined : v.toString("latin1");
}
