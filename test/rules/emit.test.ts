// Re-emitting parsed rules for JavaScript RegExp and re2js, and the
// back-reference helpers. (Agreement with grep on probes: parse.test.ts,
// conformance.test.ts.)

import { expect, test } from "bun:test";
import { backrefMayBeUnset, backrefSuperset, toJsSource, toRe2Source } from "../../src/rules/emit.ts";
import { type Node, parseEre } from "../../src/rules/parse.ts";

function ast(src: string): Node {
  const p = parseEre(src);
  if (!p.ok) throw new Error(`${src}: ${p.error}`);
  return p.value.ast;
}
const js = (s: string) => { const r = toJsSource(ast(s)); if (!r.ok) throw new Error(r.error); return new RegExp(r.value); };

test("JavaScript form keeps grep's meaning on byte strings", () => {
  expect(js("a.c").test("a\x00c")).toBe(true);
  expect(js("a.c").test("a\nc")).toBe(false);
  expect(js("[^a]").test("\xff")).toBe(true);
  expect(js("\\<ab\\>").test("x ab y")).toBe(true);
  expect(js("\\<ab\\>").test("xab")).toBe(false);
  expect(js("a{2,3}$").test("xaa")).toBe(true);
});

test("RE2 form: word edges only where the neighbour is a word byte; no back-references", () => {
  expect(toRe2Source(ast("\\<ab")).ok).toBe(true);
  expect(toRe2Source(ast("\\<.")).ok).toBe(false);
  expect(toRe2Source(ast("(a)\\1")).ok).toBe(false);
  expect(toRe2Source(ast("a{1001}")).ok).toBe(false);
});

test("back-references: superset without them, and refs that may be unset", () => {
  const sup = toJsSource(backrefSuperset(ast("^(a|b)\\1$")));
  expect(sup.ok && new RegExp(sup.value).test("ab")).toBe(true); // the superset accepts what the rule refuses
  expect(backrefMayBeUnset(ast("(a)\\1"))).toBe(false);
  expect(backrefMayBeUnset(ast("(a)?\\1"))).toBe(true);
  expect(backrefMayBeUnset(ast("((a)|b)\\2"))).toBe(true);
  expect(toJsSource(ast("(a)?\\1")).ok).toBe(false);
});
