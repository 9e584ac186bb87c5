// Engine choice keeps matching linear: hostile lines must not stall rule
// matching. Every adversarial line is classified within a fixed budget AND
// with grep's verdict, through the whole pipeline (compile, dispatch, layers).

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileRule } from "../../src/rules/compile.ts";
import type { Classifier } from "../../src/rules/layers.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { parseEre } from "../../src/rules/parse.ts";
import { ReportBuilder } from "../../src/rules/report.ts";
import { getLogcheckDb } from "../../bench/support/logcheck-db.ts";
import { pool, rng, sample } from "../../bench/support/gen.ts";
import { grepLines, grepPipeline, writeLines } from "../../bench/support/grep-pipeline.ts";

const tmp = mkdtempSync(join(tmpdir(), "linear-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const db = getLogcheckDb();

// Per line, including first-use DFA state building. This is a guard against
// super-linear matching, not a speed measurement (bench/logcheck measures speed):
// backtracking blow-up on these lines costs seconds to minutes (the amavis rule
// needs ~1 s at 24 digits and doubles per digit), while a GC pause on this
// shared 2-core machine has been seen at 52 ms, so 50 ms was flaky.
const LINE_BUDGET_MS = 250;
const H = "Nov 25 10:00:00 host";

function amavis(digits: number): string {
  return `${H} amavis[123]: (12345-01) Passed CLEAN, [192.0.2.1] <a@b.c> -> <d@e.f>, mail_id: abc, Hits: ${"1".repeat(digits)}, size: zz`;
}

function timed(c: Classifier, lines: string[]): { worst: number; worstLine: string; sections: Array<[string, string[]]> } {
  const rep = new ReportBuilder(c.sectionTitles());
  let worst = 0;
  let worstLine = "";
  for (const l of lines) {
    const t = performance.now();
    const v = c.classify(l);
    const dt = performance.now() - t;
    if (dt > worst) { worst = dt; worstLine = l.slice(0, 120); }
    rep.add(l, v);
  }
  return { worst, worstLine, sections: rep.entries() };
}

async function checkAgainstGrep(level: "paranoid" | "server" | "workstation", lines: string[], tag: string, budget = LINE_BUDGET_MS): Promise<void> {
  const c = (await loadRuleSet({ home: db.rulesHome }, level)).classifier;
  const file = join(tmp, `${tag}-${level}`);
  writeFileSync(file, Buffer.from(lines.join("\n") + "\n", "latin1"));
  const input = readFileSync(file).toString("latin1").split("\n");
  input.pop();
  const got = timed(c, input);
  expect({ level, worstMs: got.worst < budget ? "ok" : `${got.worst.toFixed(1)} ms on ${got.worstLine}` }).toEqual({ level, worstMs: "ok" });
  expect(got.sections).toEqual(grepPipeline({ home: db.rulesHome, level, input: file }));
}

test("amavis Hits: (-?[.[:digit:]]*)+ with 30, 60 and 2,000 digits, every level", async () => {
  const lines = [amavis(30), amavis(60), amavis(2000)];
  for (const level of ["paranoid", "server", "workstation"] as const) await checkAgainstGrep(level, lines, "amavis");
}, 60000);

test("64 KiB lines against the full workstation level", async () => {
  const fills = ["a", "1", " ", ".", "<", ":", "x ", "[1]", "\xe9", "\x00", "-1.", "a@"];
  const progs = ["amavis[1]: (1-1) Passed CLEAN, <a@b> -> <c@d>, mail_id: x, Hits: ", "postfix/smtpd[1]: NOQUEUE: reject: RCPT from ", "sshd[1]: Invalid user ", "kernel: [ 1.2] ", "dovecot: imap-login: ", "sudo:    ", "su[1]: ", "", "named[1]: client "];
  const lines: string[] = [];
  for (const p of progs) for (const f of fills) {
    const head = `${H} ${p}`;
    lines.push((head + f.repeat(Math.ceil(65536 / f.length))).slice(0, 65536));
  }
  await checkAgainstGrep("workstation", lines, "64k", 100);
}, 120000);

test("each rule's own classes pumped long, with a breaking byte at the end (workstation level)", async () => {
  const c0 = (await loadRuleSet({ home: db.rulesHome }, "workstation")).classifier;
  const r = rng(7);
  const lines: string[] = [];
  for (const rule of c0.rules) {
    const p = parseEre(rule.source);
    if (!p.ok) continue;
    let s = sample(p.value.ast, r, { extra: 0, big: 400 });
    if (s.length > 60000) s = s.slice(0, 60000);
    lines.push(s + "\x01");
    lines.push(s.slice(0, Math.floor(s.length * 0.9)) + "!");
  }
  expect(lines.length).toBeGreaterThan(3000);
  await checkAgainstGrep("workstation", lines, "pumped");
}, 170000);

// Random rules with nested quantifiers over a small alphabet, random long
// lines built to make backtrackers explode: same verdict as grep, bounded time.
function randomRule(r: () => number, depth: number): string {
  const atom = (): string => {
    const k = r();
    if (depth > 0 && k < 0.35) return "(" + randomRule(r, depth - 1) + ")";
    return ["a", "b", ".", "[ab]", "a", "[^b]"][Math.floor(r() * 6)];
  };
  const q = () => ["", "", "*", "+", "?", "{1,3}", "{2,}", "*"][Math.floor(r() * 8)];
  const branch = () => {
    let s = "";
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) s += atom() + q();
    return s;
  };
  let s = branch();
  if (r() < 0.3) s += "|" + branch();
  return s;
}

test("property: random nested-quantifier rules vs live grep, bounded time", async () => {
  const r = rng(42);
  const rules: string[] = [];
  while (rules.length < 60) {
    const body = randomRule(r, 2);
    const anchored = r() < 0.5 ? "^(" + body + ")+c" : "(" + body + ")*(" + body + ")+c$";
    if (parseEre(anchored).ok) rules.push(anchored);
  }
  const lines: string[] = [];
  for (let i = 0; i < 24; i++) {
    const n = [30, 100, 1000, 5000][i % 4];
    let s = "";
    for (let k = 0; k < n; k++) s += r() < 0.8 ? "a" : "b";
    lines.push(s + (i % 3 === 0 ? "c" : i % 3 === 1 ? "d" : ""));
  }
  const file = join(tmp, "prop-lines");
  writeLines(file, lines);
  const failures: string[] = [];
  let worst = 0;
  await pool(rules, 4, async (src, i) => {
    const g = await grepLines(src, file, tmp, `prop${i}`);
    expect(g.lines).not.toBeNull();
    const c = compileRule({ file: "prop", line: i + 1, source: src }, 0, false);
    if (!("rule" in c)) { failures.push(`${src}: ${c.problem.message}`); return; }
    for (let k = 0; k < lines.length; k++) {
      const t = performance.now();
      const got = c.rule.test(lines[k]);
      worst = Math.max(worst, performance.now() - t);
      if (got !== g.lines!.has(k + 1)) { failures.push(`${src} (${c.rule.kind}) on line ${k + 1}`); break; }
    }
  });
  expect(failures).toEqual([]);
  expect(worst).toBeLessThan(LINE_BUDGET_MS);
}, 120000);

test("compileRule: engine per rule - native when proven safe, linear otherwise, backref with a pre-check, problems for the rest", () => {
  const kind = (source: string) => {
    const c = compileRule({ file: "f", line: 7, source }, 0, false);
    return "rule" in c ? c.rule.kind : `problem: ${c.problem.file}:${c.problem.line}: ${c.problem.message}`;
  };
  expect(kind("^sshd\\[[0-9]+\\]: ok$")).toBe("native");
  expect(kind("Hits: (-?[.[:digit:]]*)+, size:")).toBe("linear");
  expect(kind("^(a|b)\\1$")).toBe("backref");
  expect(kind("(a)?\\1")).toBe("problem: f:7: back-reference to a group that may not take part in the match is not supported");
  expect(kind("(unclosed")).toBe("problem: f:7: Unmatched ( or \\(");
  const c = compileRule({ file: "f", line: 1, source: "Hits: (-?[.[:digit:]]*)+, size:" }, 3, true);
  expect("rule" in c && c.rule.id === 3 && c.rule.test(`Hits: ${"1".repeat(5000)}, size:`)).toBe(true);
});
