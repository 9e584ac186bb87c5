// Differential check of every engine against live grep -E (shared by tests).

import { join } from "node:path";
import { RE2JS } from "re2js";
import { compileRule } from "../../src/rules/compile.ts";
import { LazyDfa } from "../../src/rules/dfa.ts";
import { RuleIndex } from "../../src/rules/dispatch.ts";
import { selectRules } from "../../src/rules/home.ts";
import { Classifier } from "../../src/rules/layers.ts";
import { decodeSnapshot, encodeSnapshot } from "../../src/rules/snapshot.ts";
import { toJsSource, toRe2Source } from "../../src/rules/emit.ts";
import { type Node, parseEre } from "../../src/rules/parse.ts";
import { backtrackSafety } from "../../src/rules/safety.ts";
import { pool, probes } from "../../bench/support/gen.ts";
import { grepLines, writeLines } from "../../bench/support/grep-pipeline.ts";

function ast(src: string): Node {
  const p = parseEre(src);
  if (!p.ok) throw new Error(`${src}: ${p.error}`);
  return p.value.ast;
}

export function engines(src: string): Array<{ name: string; test: (s: string) => boolean }> {
  const a = ast(src);
  const out: Array<{ name: string; test: (s: string) => boolean }> = [];
  const js = toJsSource(a);
  if (js.ok) {
    const re = new RegExp(js.value);
    out.push({ name: "js", test: (s) => re.test(s) });
  }
  const r2 = toRe2Source(a);
  if (r2.ok) {
    const re = RE2JS.compile(r2.value);
    out.push({ name: "re2", test: (s) => re.test(s) });
  }
  try {
    const d = new LazyDfa(a);
    out.push({ name: "dfa", test: (s) => d.test(s) });
  } catch {
    // back-references: no DFA
  }
  const c = compileRule({ file: "t", line: 1, source: src }, 0, false);
  if ("rule" in c) {
    out.push({ name: "rule", test: c.rule.test });
    // the same rule behind the dispatch index (path, rest matcher, literal pre-filter)
    const idx = new RuleIndex([c.rule]);
    out.push({ name: "indexed", test: (s) => idx.matchAll(s).length > 0 });
    // and once more after a round trip through the compiled-rules cache's bytes (snapshot.ts)
    const parts = decodeSnapshot(encodeSnapshot(new Classifier(selectRules({ "ignore.d.server/x": src + "\n" }, "server", false)))).parts();
    // (a pattern a rule file cannot hold as one line - empty, a comment - has no such round trip)
    if (parts.rules.length === 1 && parts.rules[0].source === src) out.push({ name: "cached", test: (s) => parts.index.matchAll(s).length > 0 });
  }
  return out;
}

export async function differential(tmp: string, patterns: string[], extra: (i: number) => string[], tag: string): Promise<{ checked: number; failures: string[] }> {
  const failures: string[] = [];
  let checked = 0;
  await pool(patterns, 6, async (pat, i) => {
    const p = parseEre(pat);
    if (!p.ok) return;
    const lines = [...probes(p.value.ast, 1000 + i), ...extra(i)];
    const file = join(tmp, `${tag}-lines-${i}`);
    writeLines(file, lines);
    const g = await grepLines(pat, file, tmp, `${tag}${i}`);
    if (g.lines === null) {
      failures.push(`${pat}: grep rejects it (${g.stderr.trim()}) but we parse it`);
      return;
    }
    for (const e of engines(pat)) {
      // native JS may be exponential on its own: only give it short probes
      if (e.name === "js" && !backtrackSafety(p.value.ast).safe && lines.some((l) => l.length > 40)) continue;
      for (let k = 0; k < lines.length; k++) {
        checked++;
        const want = g.lines.has(k + 1);
        if (e.test(lines[k]) !== want) {
          failures.push(`${e.name} ${JSON.stringify(pat)} on ${JSON.stringify(lines[k])}: grep says ${want}`);
          break;
        }
      }
    }
  });
  return { checked, failures };
}

