// Line splitting for the log follower. Pure: no clock, no I/O; bytes in, lines
// and the new read state out.
//
// A log is read as bytes, a chunk at a time, from the offset of the first line
// not yet classified. `splitLines` cuts one chunk:
// - a line ends at its newline (LF, 0x0a); the newline is not part of it;
// - a line longer than MAX_LINE bytes is given as its first MAX_LINE bytes,
//   marked `cut`; the rest of it, up to its newline, is skipped. When the
//   newline is not in this chunk the state says `skipping`, and the next chunk
//   starts by skipping to the first newline, whatever the line's length, so an
//   endless line costs bounded reads and memory;
// - a partial last line (no newline yet) is left unconsumed, to be read again
//   once it is complete, unless the chunk is `final` (the file is finished:
//   rotated away or deleted): then it is a line too.
// The caller may stop after any line (bounded work per transaction):
// `stateAfter` gives the offset and skipping state to store then.
//
// A line's text is a latin1 string (one char per byte: NUL bytes and invalid
// UTF-8 pass through), trailing POSIX [[:space:]] stripped as logcheck does;
// the report text is escaped, a cut line ends with CUT_MARKER.
import { stripTrailing } from "../rules/layers.ts";
import { escapeLatin1 } from "../util/escape.ts";

/** Longest line reported as is; longer ones are cut with CUT_MARKER. */
export const MAX_LINE = 65536;
export const CUT_MARKER = ` [integrityd: line cut, longer than ${MAX_LINE} bytes]`;

/** One line of a chunk: its text is buf[start, end). */
export interface Line {
  start: number;
  end: number;
  /** longer than MAX_LINE: only its first MAX_LINE bytes are in [start, end) */
  cut: boolean;
  /** bytes of the chunk consumed once this line is handled */
  next: number;
}

export interface Split {
  lines: Line[];
  /** bytes of the chunk consumed when every line is handled (the new offset is base + consumed) */
  consumed: number;
  /** the chunk ended inside an over-long line already reported cut: skip to its newline next time */
  skipping: boolean;
}

/** Cut a chunk of file bytes into lines (see the header). `skipping`: the state stored before the chunk. */
export function splitLines(buf: Uint8Array, skipping: boolean, final: boolean): Split {
  const lines: Line[] = [];
  let pos = 0;
  if (skipping) {
    const nl = buf.indexOf(10);
    if (nl < 0) return { lines, consumed: buf.length, skipping: true };
    pos = nl + 1;
  }
  for (;;) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) break;
    if (nl - pos > MAX_LINE) lines.push({ start: pos, end: pos + MAX_LINE, cut: true, next: nl + 1 });
    else lines.push({ start: pos, end: nl, cut: false, next: nl + 1 });
    pos = nl + 1;
  }
  const rest = buf.length - pos;
  if (rest > MAX_LINE) {
    lines.push({ start: pos, end: pos + MAX_LINE, cut: true, next: buf.length });
    return { lines, consumed: buf.length, skipping: true };
  }
  if (final && rest > 0) {
    lines.push({ start: pos, end: buf.length, cut: false, next: buf.length });
    return { lines, consumed: buf.length, skipping: false };
  }
  return { lines, consumed: pos, skipping: false };
}

/** The state to store when the caller stops after split.lines[i] (only the last line can leave a skip). */
export function stateAfter(split: Split, i: number): { consumed: number; skipping: boolean } {
  if (i >= split.lines.length - 1) return { consumed: split.consumed, skipping: split.skipping };
  return { consumed: split.lines[i].next, skipping: false };
}

/** Where the bytes `startAtEnd` needs begin: the last MAX_LINE + 1 bytes of a file of `size` bytes. */
export function endWindow(size: number): number {
  return Math.max(0, size - (MAX_LINE + 1));
}

/**
 * Where to start following a file first seen at `size` bytes (no history is
 * reported): after its last complete line. `tail` holds the file's bytes from
 * endWindow(size). With no newline in them the last line is over-long: its
 * rest is skipped. A file without any newline is read from 0.
 */
export function startAtEnd(size: number, tail: Uint8Array): { offset: number; skipping: boolean } {
  if (size === 0) return { offset: 0, skipping: false };
  const from = endWindow(size);
  const nl = tail.lastIndexOf(10);
  if (nl >= 0) return { offset: from + nl + 1, skipping: false };
  if (from === 0) return { offset: 0, skipping: false };
  return { offset: size, skipping: true };
}

/** The text of a line as classified: latin1, trailing POSIX [[:space:]] (C locale) stripped. */
export function lineText(buf: Buffer, line: Line): string {
  return stripTrailing(buf.toString("latin1", line.start, line.end));
}

/** Printable ASCII without backslash: escaping would not change it. */
const PLAIN = /^[\x20-\x5b\x5d-\x7e]*$/;

/** The text reported for a line: escaped, a cut line with CUT_MARKER. */
export function reportText(text: string, cut: boolean): string {
  return (PLAIN.test(text) ? text : escapeLatin1(text)) + (cut ? CUT_MARKER : "");
}
