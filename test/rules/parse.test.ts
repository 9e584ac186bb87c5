// The ERE translator against live `LC_ALL=C grep -E --text`: the parser's
// accept/reject decisions, and every engine (JS RegExp, RE2 via re2js, our
// lazy DFA, the compiled rule) on probe strings for every construct.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { singleChar } from "../../src/rules/charset.ts";
import { type Node, parseEre } from "../../src/rules/parse.ts";
import { differential } from "./differential.ts";
import { pool } from "../../bench/support/gen.ts";
import { grepLines, writeLines } from "../../bench/support/grep-pipeline.ts";

const tmp = mkdtempSync(join(tmpdir(), "ere-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

function ast(src: string): Node {
  const p = parseEre(src);
  if (!p.ok) throw new Error(`${src}: ${p.error}`);
  return p.value.ast;
}

// ---------------------------------------------------------------- tokenizer unit tests

test("literal chars, escapes and classes become the right byte sets", () => {
  const set = (src: string) => {
    const a = ast(src);
    if (a.t !== "set") throw new Error(`not a set: ${a.t}`);
    return a.set;
  };
  expect(singleChar(set("\\d"))).toBe("d".charCodeAt(0)); // stray escape = the char
  expect(singleChar(set("\\n"))).toBe("n".charCodeAt(0));
  const bs = set("[\\.]"); // backslash is literal inside brackets
  expect(bs[92]).toBe(1);
  expect(bs[46]).toBe(1);
  expect(set("[]a]")[93]).toBe(1);
  const neg = set("[^]a]");
  expect(neg[93]).toBe(0);
  expect(neg[10]).toBe(0); // never newline
  expect(neg[0]).toBe(1); // NUL is a byte like any other
  expect(neg[0xe9]).toBe(1);
  const dot = set(".");
  expect(dot[10]).toBe(0);
  expect(dot[0]).toBe(1);
  expect(dot[0xff]).toBe(1);
  expect(set("[[:alpha:]]")[0xe9]).toBe(0); // C locale: ASCII only
  expect(set("\\s")[0x0b]).toBe(1); // \v is space
  expect(set("\\s")[0xa0]).toBe(0); // NBSP is not
  expect(set("\\w")[95]).toBe(1);
  expect(set("[[.-.]]")[45]).toBe(1);
  expect(set("[[=a=]]")[97]).toBe(1);
  expect(set("[a-]")[45]).toBe(1);
});

test("repetition operators and intervals", () => {
  const rep = (src: string) => {
    const a = ast(src);
    if (a.t !== "rep") throw new Error(`not a rep: ${a.t}`);
    return a;
  };
  expect(rep("a{,3}")).toMatchObject({ min: 0, max: 3 });
  expect(rep("a{2,}")).toMatchObject({ min: 2, max: -1 });
  expect(rep("a{,}")).toMatchObject({ min: 0, max: -1 });
  expect(rep("a{3}")).toMatchObject({ min: 3, max: 3 });
  const lazyLooking = rep("a+?"); // ERE: (a+)?, not a lazy quantifier
  expect(lazyLooking).toMatchObject({ min: 0, max: 1 });
  expect(lazyLooking.body).toMatchObject({ t: "rep", min: 1, max: -1 });
  expect(ast("a{")).toMatchObject({ t: "cat" }); // literal '{'
  expect(ast("a{x}").t).toBe("cat");
  expect(ast("*a")).toMatchObject({ t: "set" }); // leading '*' repeats nothing
  expect(ast("^*a")).toMatchObject({ t: "set" }); // '^*' = nothing
  expect(ast("a|")).toMatchObject({ t: "alt" });
  expect(ast("(a)\\1").t).toBe("cat");
});

test("errors are values, never exceptions", () => {
  for (const bad of ["(", "a{2,1}", "a{1,2,3}", "a{}", "[z-a]", "[[:foo:]]", "\\", "[a", "(a)\\2", "(a)|\\1", "a{32768}", "[:alpha:]", "(*)"]) {
    const p = parseEre(bad);
    expect(p.ok).toBe(false);
  }
  const wide = parseEre("caf\u00e9\u2603");
  expect(wide.ok).toBe(false);
});

// ---------------------------------------------------------------- parser accept/reject vs grep

const EDGE = [
  "*b", "a|*b", "(*b)", "(*)", "(a|*)", "(|*a)", "^*b", "x^*y", "x^+y", "a$*", "a$+b", "{1}a", "a{", "a{1", "a{1,", "a{,2}",
  "a{x}", "a{ 1}", "a{1a}", "a{1,x}", "a{,5", "a{}", "a{2,1}", "a{1,2,3}", "a{32767}", "a{32768}", "a{40000,}", "a{,}", "a{01}",
  "a{1}{2}", "a{1,2}{3}", "a**", "a+*", "a+?", "a?*", "x)", ")", "(", "()", "(a|b", "a|", "|", "(|a)", "a(|)b", "\\d", "\\", "a\\",
  "[\\.]", "[]a]", "[^]a]", "[a-]", "[z-a]", "[[.a.]]", "[[.space.]]", "[[=a=]]", "[[=ab=]]", "[[:foo:]]", "[:alpha:]", "[::]",
  "[:a]", "[[:alpha:]", "[a", "a]", "[]", "[^]", "[a]]", "[\\-z]", "[a-\\]", "[[:digit:]-9]", "[a-[:alpha:]]", "[a-c-e]", "[--/]",
  "[+--]", "[[.-.]-0]", "[[=a=]-z]", "a^b", "a$b", "(^a)", "x(^a)", "\\1(a)", "(a)\\2", "(a)\\1", "(a)|\\1", "(a)|b\\1",
  "((a)|b)\\2", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10", "\\(", "\\{", "a\\{1\\}", "\\<a", "a\\>", "\\`a", "a\\'", "[\\w]", "\\]", "\\}",
  "(?:a)", "a(?)", "[[:alpha:][:digit:]]", "[[.].]]", "[[=]=]]", "\\x", "\\%", "}", "a{1}}",
];

test("the parser accepts and rejects exactly what grep -E accepts and rejects", async () => {
  const file = join(tmp, "edge-lines");
  writeLines(file, ["a"]);
  const mismatches: string[] = [];
  await pool(EDGE, 6, async (pat, i) => {
    const g = await grepLines(pat, file, tmp, `edge${i}`);
    const ours = parseEre(pat).ok;
    if (ours !== (g.lines !== null)) mismatches.push(`${pat}: grep ${g.lines !== null ? "accepts" : "rejects: " + g.stderr.trim()}, we ${ours ? "accept" : "reject"}`);
  });
  expect(mismatches).toEqual([]);
});

// ---------------------------------------------------------------- engines vs grep on probes

const CONSTRUCTS = [
  ...EDGE,
  "[[:alnum:]]+", "[[:alpha:]]", "[[:blank:]]", "[[:cntrl:]]", "[[:digit:]]{2,3}", "[[:graph:]]", "[[:lower:]]+", "[[:print:]]",
  "[[:punct:]]", "[[:space:]]", "[[:upper:]]", "[[:xdigit:]]+", "^[^a-z]*$", "^.$", "^..$", "[^[:space:]]+:", "\\w+", "\\W", "\\s\\S",
  "\\bab", "ab\\b", "\\Bb", "a\\B", "\\<ab\\>", "\\<", "\\>", "^\\<$", "^\\B$", "\\b", "x\\b.", "^(ab|a)(bc|c)?$", "^(a|b)*$",
  "^(a*)*b$", "^(a+)+$", "(a|aa)+$", "^(-?[.[:digit:]]*)+, x", "^a{2,4}$", "^(ab){2}$", "^a{0}b$", "^(a){0}b$", "^(a|)+b",
  "^([ab])\\1$", "^(a*)\\1$", "^((a)b)\\2", "(a)(b)\\2\\1", "a.c", "a[^b]c", "^$", "^ *$", "[\\]", "[\\]]", "[^\\]", "a\\.b",
  "\\$\\{x", "\\(\\) \\{", "(\\.\\./){2,}", "^[^:]+: ", "[a-]+", "[]-]+", "^[\\x]+$", "a?b?c?$", "(^|[^a])b", "(a$|b)",
  "\\.", "[.]", "[*]", "[$^]", "[\\^]", "^(\\w{3} [ :[:digit:]]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ a",
];

test("every construct: JS, RE2, DFA and compiled rule agree with grep on probes", async () => {
  const { checked, failures } = await differential(tmp, CONSTRUCTS, () => ["a", "ab", "abc", "b", "aa", "a b", "-", "\\", "]", "x\u00e9y", "a\x00b"], "c");
  expect(failures).toEqual([]);
  expect(checked).toBeGreaterThan(10000);
}, 60000);

