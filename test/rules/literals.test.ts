// literals.ts: large alternations of plain words become the trie of their
// words - the same language (checked against the flat form on the native
// engine and the DFA), every choice decided by one byte, and Debian-sized
// alternations left alone.

import { expect, test } from "bun:test";
import { LazyDfa } from "../../src/rules/dfa.ts";
import { toJsSource } from "../../src/rules/emit.ts";
import { factorWordLists, TRIE_MIN_BRANCHES, wordTrie } from "../../src/rules/literals.ts";
import { type Node, parseEre } from "../../src/rules/parse.ts";
import { backtrackSafety, firstOf } from "../../src/rules/safety.ts";
import { setIntersects } from "../../src/rules/charset.ts";
import { rng } from "../../bench/support/gen.ts";

const ast = (src: string): Node => {
  const p = parseEre(src);
  if (!p.ok) throw new Error(p.error);
  return p.value.ast;
};
const js = (n: Node): RegExp => {
  const s = toJsSource(n);
  if (!s.ok) throw new Error(s.error);
  return new RegExp(s.value);
};

function words(n: number, seed: number, alphabet = "abc"): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(Array.from({ length: 1 + Math.floor(r() * 6) }, () => alphabet[Math.floor(r() * alphabet.length)]).join(""));
  return out;
}

function altsDecided(n: Node): boolean {
  switch (n.t) {
    case "alt": {
      const fs = n.alts.map((a) => firstOf(a).first);
      for (let i = 0; i < fs.length; i++) for (let j = i + 1; j < fs.length; j++) if (setIntersects(fs[i], fs[j])) return false;
      return n.alts.every(altsDecided);
    }
    case "cat": return n.items.every(altsDecided);
    case "group": case "rep": return altsDecided(n.body);
    default: return true;
  }
}

test("a word list (prefixes of one another, duplicates, the empty word) keeps its language", () => {
  const ws = [...words(200, 1), "", "ab", "ab", "abcabc"];
  const src = `x(${ws.join("|")})y`;
  const flat = ast(src);
  const trie = factorWordLists(flat);
  expect(trie).not.toBe(flat);
  expect(altsDecided(trie)).toBe(true);
  const a = js(flat), b = js(trie), d = new LazyDfa(trie);
  const r = rng(2);
  let hits = 0;
  for (let i = 0; i < 3000; i++) {
    const s = Array.from({ length: Math.floor(r() * 12) }, () => "abcxy"[Math.floor(r() * 5)]).join("");
    const want = a.test(s);
    if (want) hits++;
    expect([s, b.test(s)]).toEqual([s, want]);
    expect([s, d.test(s)]).toEqual([s, want]);
  }
  expect(hits).toBeGreaterThan(100); // the strings do reach the words
});

test("only large alternations of plain words are rewritten; other rules come back as the same node", () => {
  const few = ast(`^(${words(TRIE_MIN_BRANCHES - 1, 3).join("|")})$`);
  expect(factorWordLists(few)).toBe(few);
  const notPlain = ast(`^(${words(100, 4).join("|")}|x+)$`);
  expect(factorWordLists(notPlain)).toBe(notPlain);
  const debianLike = ast("^(\\w{3} [ :[:digit:]]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ sshd\\[[[:digit:]]+\\]: (Accepted|Failed) (password|publickey) for [^[:space:]]+$");
  expect(factorWordLists(debianLike)).toBe(debianLike);
  const big = ast(`(${words(TRIE_MIN_BRANCHES, 5).join("|")})`);
  expect(big.t === "group" && big.body.t === "alt" && wordTrie(big.body)).not.toBeNull();
});

test("a 10,000-word list in a decided context is safe for the native engine and analysed quickly", () => {
  const ws = words(10000, 6, "abcdefghijklmnopqrstuvwxyz").map((w) => w + "q");
  const t = performance.now();
  const trie = factorWordLists(ast(`^[a-z]+ login: user (${ws.join("|")}) refused$`));
  expect(backtrackSafety(trie)).toEqual({ safe: true, reason: "" });
  expect(performance.now() - t).toBeLessThan(5000); // was 14 s of pairwise checks: a bound, not a benchmark
  const re = js(trie);
  expect(re.test(`sshd login: user ${ws[1234]} refused`)).toBe(true);
  expect(re.test(`sshd login: user ${ws[1234]}x refused`)).toBe(false);
});
