// The report of a --test-rules run of any size: SpooledReport takes classified
// lines one at a time and prints logcheck's report (the text of report.ts's
// ReportBuilder, byte for byte) without holding the input in memory. Sections
// are grouped as logcheck groups them, so a section's lines must wait until
// the input ends: each section keeps at most `bufferBytes` in memory and
// spills the rest to its own file in a private temporary directory (mode
// 0700, removed by finish() or close()). Memory is therefore bounded by the
// number of sections times bufferBytes, whatever the input size; the test
// asserts that bound, not a timing.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { matchedLine, type Verdict } from "./layers.ts";
import { sectionHeader } from "./report.ts";

/** Default bytes a section holds in memory before it spills to its file. */
export const SPOOL_BUFFER_BYTES = 256 * 1024;
const READ_CHUNK = 256 * 1024;

interface Section {
  parts: string[]; // lines not yet spilled, each with its "\n"
  bytes: number;
  fd: number; // -1 until the first spill
  path: string;
}

export class SpooledReport {
  private sections = new Map<string, Section>();
  private dir: string | null = null;
  /** the most bytes any section held in memory at once (for the bounded-buffer test) */
  maxBuffered = 0;
  /** how many sections spilled to a file */
  spilled = 0;

  /** order: every section title the rule set can produce (Classifier.sectionTitles()) */
  constructor(private readonly order: string[], private readonly bufferBytes = SPOOL_BUFFER_BYTES) {}

  /** Add a line as read under the sections of its verdict (listed as matched: see matchedLine). */
  add(line: string, verdict: Verdict): void {
    if (verdict.length === 0) return;
    const shown = matchedLine(line) + "\n";
    for (const p of verdict) {
      let s = this.sections.get(p.section);
      if (!s) { s = { parts: [], bytes: 0, fd: -1, path: "" }; this.sections.set(p.section, s); }
      s.parts.push(shown);
      s.bytes += shown.length;
      if (s.bytes > this.maxBuffered) this.maxBuffered = s.bytes;
      if (s.bytes >= this.bufferBytes) this.spill(s);
    }
  }

  private spill(s: Section): void {
    if (s.fd < 0) {
      this.dir ??= mkdtempSync(join(tmpdir(), "integrityd-test-rules-"));
      s.path = join(this.dir, String(this.spilled++));
      s.fd = openSync(s.path, "wx+", 0o600);
    }
    writeSync(s.fd, Buffer.from(s.parts.join(""), "latin1"));
    s.parts = [];
    s.bytes = 0;
  }

  isEmpty(): boolean {
    return this.sections.size === 0;
  }

  /** Write the report (latin1 strings) to `out` in report order, in bounded chunks; then clean up. */
  finish(out: (s: string) => void): void {
    try {
      const buf = Buffer.alloc(READ_CHUNK);
      for (const t of this.order) {
        const s = this.sections.get(t);
        if (!s) continue;
        out(sectionHeader(t));
        if (s.fd >= 0) {
          for (let pos = 0; ;) {
            const n = readSync(s.fd, buf, 0, READ_CHUNK, pos);
            if (n <= 0) break;
            out(buf.toString("latin1", 0, n));
            pos += n;
          }
        }
        if (s.parts.length > 0) out(s.parts.join(""));
        out("\n");
      }
    } finally {
      this.close();
    }
  }

  /** Remove the spill files (finish() does it; call it when giving up early). */
  close(): void {
    for (const s of this.sections.values()) {
      if (s.fd >= 0) {
        try { closeSync(s.fd); } catch { /* already closed */ }
        s.fd = -1;
      }
    }
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
