import { expect, test } from "bun:test";
import { escapeBytes, escapeControls, escapeLatin1, safeLines } from "../../src/util/escape.ts";

test("bytes: valid UTF-8 stays, controls and invalid bytes are escaped, backslash doubled", () => {
  expect(escapeBytes(Buffer.from("é\\\n\t\x1b", "utf8"))).toBe("é\\\\\\n\\t\\x1b");
  expect(escapeBytes(Uint8Array.from([0xff, 0x41, 0xc3]))).toBe("\\xffA\\xc3");
  expect(escapeLatin1("a\u00ffb")).toBe("a\\xffb");
});

test("controls in printable text: escaped, backslashes kept, TAB kept", () => {
  expect(escapeControls("a\rb\u0085c\u2028d\te\\x")).toBe("a\\x0db\\x85c\\u2028d\te\\x");
  expect(safeLines("one\r\ntwo")).toEqual(["one\\x0d", "two"]);
});

test("bidirectional controls and invisible characters are escaped (a name with U+202E cannot show reversed)", () => {
  const evil = Buffer.from("invoice\u202Efdp.exe", "utf8");
  expect(escapeBytes(evil)).toBe("invoice\\u202efdp.exe");
  expect(escapeBytes(Buffer.from("a\u200bb\u2066c\ufeff", "utf8"))).toBe("a\\u200bb\\u2066c\\ufeff");
  expect(escapeControls("x\u202Ey\u2069")).toBe("x\\u202ey\\u2069");
  expect(escapeBytes(Buffer.from("naïve ünïcode ✓", "utf8"))).toBe("naïve ünïcode ✓");
});
