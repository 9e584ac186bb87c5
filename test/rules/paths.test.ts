// Dispatch paths and required literals read from parsed rules.

import { expect, test } from "bun:test";
import { singleChar } from "../../src/rules/charset.ts";
import { type Node, parseEre } from "../../src/rules/parse.ts";
import { type Elem, requiredLiteral, toPaths } from "../../src/rules/paths.ts";

function ast(src: string): Node {
  const p = parseEre(src);
  if (!p.ok) throw new Error(`${src}: ${p.error}`);
  return p.value.ast;
}
const show = (p: Elem[]) => p.map((e) => (e.k === "run" ? `<run${e.min}>` : singleChar(e.set) >= 0 ? String.fromCharCode(singleChar(e.set)) : "?")).join("");

test("an anchored rule becomes its paths; small alternations expand; a decided loop is a run", () => {
  const d = toPaths(ast("^(ab|c)d[0-9]+: x.*"))!;
  expect(d.paths.map(show).sort()).toEqual(["abd<run1>: x", "cd<run1>: x"]);
  expect(d.covered).toBeGreaterThan(0);
  expect(toPaths(ast("abc"))).toBeNull(); // not anchored
  // a loop whose set overlaps what follows cannot end at a fixed position: the path stops before it
  expect(toPaths(ast("^ab[a-z]+c"))!.paths.map(show)).toEqual(["ab"]);
});

test("required literal: the longest top-level literal run", () => {
  expect(requiredLiteral(ast("foo.*barbaz"))).toBe("barbaz");
  expect(requiredLiteral(ast("\\<ab\\>cd"))).toBe("abcd");
  expect(requiredLiteral(ast("(abc|abd)"))).toBe("");
});
