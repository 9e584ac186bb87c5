// Line splitting, pure: bytes in, lines and the new read state out.
import { describe, expect, test } from "bun:test";
import {
  CUT_MARKER, endWindow, lineText, MAX_LINE, reportText, splitLines, startAtEnd, stateAfter,
} from "../../src/logs/lines.ts";

const b = (s: string) => Buffer.from(s, "latin1");
const texts = (buf: Buffer, skipping = false, final = false) => splitLines(buf, skipping, final).lines.map((l) => lineText(buf, l));

describe("splitLines", () => {
  test("complete lines are cut at LF; a partial last line is left unconsumed", () => {
    const buf = b("one\ntwo\nthr");
    const s = splitLines(buf, false, false);
    expect(s.lines).toEqual([
      { start: 0, end: 3, cut: false, next: 4 },
      { start: 4, end: 7, cut: false, next: 8 },
    ]);
    expect(s.consumed).toBe(8);
    expect(s.skipping).toBe(false);
  });

  test("final: the partial last line is a line too", () => {
    const s = splitLines(b("one\nthr"), false, true);
    expect(s.lines.map((l) => [l.start, l.end])).toEqual([[0, 3], [4, 7]]);
    expect(s.consumed).toBe(7);
  });

  test("nothing complete: nothing consumed", () => {
    expect(splitLines(b("no newline"), false, false)).toEqual({ lines: [], consumed: 0, skipping: false });
    expect(splitLines(b(""), false, true)).toEqual({ lines: [], consumed: 0, skipping: false });
  });

  test("empty lines are lines", () => {
    expect(texts(b("\n\nx\n"))).toEqual(["", "", "x"]);
  });

  test("a line of exactly MAX_LINE bytes is whole; one byte more is cut", () => {
    const exact = splitLines(b("z".repeat(MAX_LINE) + "\n"), false, false);
    expect(exact.lines).toEqual([{ start: 0, end: MAX_LINE, cut: false, next: MAX_LINE + 1 }]);
    const over = splitLines(b("z".repeat(MAX_LINE + 1) + "\nnext\n"), false, false);
    expect(over.lines[0]).toEqual({ start: 0, end: MAX_LINE, cut: true, next: MAX_LINE + 2 });
    expect(over.lines[1].cut).toBe(false);
    expect(over.skipping).toBe(false);
  });

  test("an over-long line without its newline yet: cut once, the chunk consumed, skipping", () => {
    const buf = b("a\n" + "y".repeat(MAX_LINE + 10));
    const s = splitLines(buf, false, false);
    expect(s.lines.length).toBe(2);
    expect(s.lines[1]).toEqual({ start: 2, end: 2 + MAX_LINE, cut: true, next: buf.length });
    expect(s.consumed).toBe(buf.length);
    expect(s.skipping).toBe(true);
  });

  test("a partial last line of exactly MAX_LINE bytes waits (not cut), or is whole when final", () => {
    const buf = b("y".repeat(MAX_LINE));
    expect(splitLines(buf, false, false)).toEqual({ lines: [], consumed: 0, skipping: false });
    expect(splitLines(buf, false, true).lines).toEqual([{ start: 0, end: MAX_LINE, cut: false, next: MAX_LINE }]);
  });

  test("skipping: the rest of the over-long line is skipped up to its newline", () => {
    const s = splitLines(b("rest of it\nnext\n"), true, false);
    expect(s.lines).toEqual([{ start: 11, end: 15, cut: false, next: 16 }]);
    expect(s.consumed).toBe(16);
    expect(s.skipping).toBe(false);
  });

  test("skipping without a newline: the whole chunk is skipped, still skipping (final or not)", () => {
    for (const final of [false, true]) {
      expect(splitLines(b("yyyy"), true, final)).toEqual({ lines: [], consumed: 4, skipping: true });
    }
  });

  test("skipping, the newline is the last byte: consumed, no line", () => {
    expect(splitLines(b("yy\n"), true, false)).toEqual({ lines: [], consumed: 3, skipping: false });
  });

  test("bytes pass through one char per byte (NUL, invalid UTF-8)", () => {
    const buf = Buffer.from([0x61, 0x00, 0x62, 0x0a, 0xff, 0xc3, 0x28, 0x0a]);
    expect(texts(buf)).toEqual(["a\x00b", "\xff\xc3("]);
  });
});

describe("stateAfter", () => {
  test("stopping after a line that is not the last: its next offset, not skipping", () => {
    const s = splitLines(b("a\nb\n" + "y".repeat(MAX_LINE + 1)), false, false);
    expect(s.lines.length).toBe(3);
    expect(stateAfter(s, 0)).toEqual({ consumed: 2, skipping: false });
    expect(stateAfter(s, 1)).toEqual({ consumed: 4, skipping: false });
    expect(stateAfter(s, 2)).toEqual({ consumed: s.consumed, skipping: true });
  });
});

describe("startAtEnd", () => {
  test("after the last complete line", () => {
    expect(startAtEnd(0, b(""))).toEqual({ offset: 0, skipping: false });
    expect(startAtEnd(14, b("history\nhalf a"))).toEqual({ offset: 8, skipping: false });
    expect(startAtEnd(8, b("history\n"))).toEqual({ offset: 8, skipping: false });
  });

  test("a file without newline is read from 0", () => {
    expect(startAtEnd(5, b("abcde"))).toEqual({ offset: 0, skipping: false });
  });

  test("an over-long last line (no newline in the window): its rest is skipped", () => {
    const size = MAX_LINE + 100;
    const from = endWindow(size);
    expect(from).toBe(size - (MAX_LINE + 1));
    expect(startAtEnd(size, b("y".repeat(size - from)))).toEqual({ offset: size, skipping: true });
  });

  test("the window's first byte is a newline: start right after it", () => {
    const size = MAX_LINE + 100;
    const from = endWindow(size);
    expect(startAtEnd(size, b("\n" + "y".repeat(size - from - 1)))).toEqual({ offset: from + 1, skipping: false });
  });
});

describe("line text", () => {
  test("trailing POSIX space is stripped, leading kept", () => {
    expect(lineText(Buffer.from("  a b \t\r\v\f\n"), { start: 0, end: 11, cut: false, next: 11 })).toBe("  a b");
    expect(lineText(b("x  \ty\t \n"), { start: 0, end: 7, cut: false, next: 8 })).toBe("x  \ty");
  });

  test("report text: plain as is, the rest escaped, a cut line with the marker", () => {
    expect(reportText("hello world", false)).toBe("hello world");
    expect(reportText("a\x00b\\", false)).toBe("a\\x00b\\\\");
    expect(reportText("yy", true)).toBe("yy" + CUT_MARKER);
    expect(CUT_MARKER).toContain(String(MAX_LINE));
  });
});
