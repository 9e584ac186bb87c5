// Backtrack-safety analysis and FIRST/LAST sets, on parsed patterns.

import { expect, test } from "bun:test";
import { type Node, parseEre } from "../../src/rules/parse.ts";
import { backtrackSafety, firstOf, lastOf, startsWithBol } from "../../src/rules/safety.ts";

function ast(src: string): Node {
  const p = parseEre(src);
  if (!p.ok) throw new Error(`${src}: ${p.error}`);
  return p.value.ast;
}

test("loops decided by the next byte are safe; overlapping or nested ones are not", () => {
  expect(backtrackSafety(ast("^[a-z]+: [0-9]+$")).safe).toBe(true);
  expect(backtrackSafety(ast("^sshd\\[[[:digit:]]+\\]: Accepted")).safe).toBe(true);
  expect(backtrackSafety(ast("^.*foo.*bar$"))).toEqual({ safe: false, reason: "loop over a class that overlaps what follows it" });
  expect(backtrackSafety(ast("Hits: (-?[.[:digit:]]*)+, size:")).safe).toBe(false);
  expect(backtrackSafety(ast("^(a|ab)(c|bcd)(d*)$")).safe).toBe(true); // few paths
  expect(backtrackSafety(ast("(a)\\1")).reason).toBe("back-reference");
  // unanchored: a loop that can eat the first byte of a match would restart on every offset
  expect(backtrackSafety(ast("a[a-z]*:")).safe).toBe(false);
  expect(backtrackSafety(ast("a[a-z]*:"), true).safe).toBe(true);
});

test("first and last byte sets", () => {
  const f = firstOf(ast("a?b"));
  expect([f.first[97], f.first[98], f.first[99], f.nullable]).toEqual([1, 1, 0, false]);
  expect(firstOf(ast("a*")).nullable).toBe(true);
  const l = lastOf(ast("ab?"));
  expect([l.first[97], l.first[98], l.nullable]).toEqual([1, 1, false]);
  expect(startsWithBol(ast("^a|^b"))).toBe(true);
  expect(startsWithBol(ast("^a|b"))).toBe(false);
});
