// dfa.ts: a line that needs more new states than the cache holds finishes as
// an uncached NFA simulation - the same answers as the cached DFA and the
// native engine, and a hostile 64 KiB line stays cheap.

import { expect, test } from "bun:test";
import { dfaBudget, GLOBAL_DFA_STATES, LazyDfa } from "../../src/rules/dfa.ts";
import { toJsSource } from "../../src/rules/emit.ts";
import { parseEre } from "../../src/rules/parse.ts";
import { rng } from "../../bench/support/gen.ts";

function compile(src: string) {
  const p = parseEre(src);
  if (!p.ok) throw new Error(p.error);
  const js = toJsSource(p.value.ast);
  if (!js.ok) throw new Error(js.error);
  return { ast: p.value.ast, native: new RegExp(js.value) };
}

const PATTERNS = ["a[ab]{5}c", "^x.*a[ab]{4}$", "\\<ab+\\>", "(foo|a[ab]{3}[^c]{2})+z", "b\\Ba[ab]{3}\\b", "^(ab|a)*c$"];

test("with a tiny per-line budget the simulation agrees with the cached DFA and the native engine", () => {
  const r = rng(11);
  for (const src of PATTERNS) {
    const { ast, native } = compile(src);
    const cached = new LazyDfa(ast);
    const tiny = new LazyDfa(ast, 1); // after one new state, the rest of every line is simulated
    for (let i = 0; i < 2000; i++) {
      const s = Array.from({ length: Math.floor(r() * 14) }, () => "abcxz "[Math.floor(r() * 6)]).join("");
      const want = native.test(s);
      expect([src, s, cached.test(s)]).toEqual([src, s, want]);
      expect([src, s, tiny.test(s)]).toEqual([src, s, want]);
      const at = Math.floor(r() * (s.length + 1));
      expect([src, s, at, tiny.testAt(s, at)]).toEqual([src, s, at, cached.testAt(s, at)]);
    }
  }
});

test("a 64 KiB line reaching a new state at every byte costs a bounded time, with the right answer", () => {
  const { ast, native } = compile("^x.*a[ab]{14}c");
  const r = rng(12);
  let line = "x";
  for (let i = 0; i < 65535; i++) line += r() < 0.5 ? "a" : "b";
  const d = new LazyDfa(ast);
  for (const l of [line, line + "c"]) {
    const t = performance.now();
    expect(d.test(l)).toBe(native.test(l));
    // the cache thrashing took ~150 ms, the simulation ~20 ms: a generous bound, not a benchmark
    expect(performance.now() - t).toBeLessThan(1000);
  }
});

test("all DFAs share one budget of cached states: caches of others are dropped, answers unchanged", () => {
  // each of these DFAs can fill its own 256-state cache; 48 of them would hold 12,288 states
  const dfas = Array.from({ length: 48 }, (_, k) => {
    const c = compile(`${"x".repeat(k % 3)}[ab]*a[ab]{9}`);
    return { dfa: new LazyDfa(c.ast), native: c.native };
  });
  const r = rng(7);
  let maxLive = 0;
  let dropped = false;
  for (let round = 0; round < 3; round++) {
    for (const { dfa, native } of dfas) {
      for (let i = 0; i < 12; i++) {
        const line = Array.from({ length: 40 }, () => (r() < 0.5 ? "a" : "b")).join("");
        expect(dfa.test(line)).toBe(native.test(line));
        maxLive = Math.max(maxLive, dfaBudget.live);
      }
    }
    if (dfas.some((d) => d.dfa.cachedStates === 0)) dropped = true;
  }
  expect(maxLive).toBeLessThanOrEqual(GLOBAL_DFA_STATES);
  expect(maxLive).toBeGreaterThan(GLOBAL_DFA_STATES / 2); // the test does reach the budget
  expect(dropped || dfas.reduce((a, d) => a + d.dfa.cachedStates, 0) <= GLOBAL_DFA_STATES).toBe(true);
});
