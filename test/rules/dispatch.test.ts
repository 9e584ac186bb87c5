// RuleIndex: many rules against one line give exactly the rules that match.

import { expect, test } from "bun:test";
import { type CompiledRule, compileRule } from "../../src/rules/compile.ts";
import { RuleIndex } from "../../src/rules/dispatch.ts";

function rules(sources: string[]): CompiledRule[] {
  return sources.map((source, id) => {
    const c = compileRule({ file: "t", line: id + 1, source }, id, false);
    if (!("rule" in c)) throw new Error(c.problem.message);
    return c.rule;
  });
}

const SOURCES = [
  "^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ sshd\\[[[:digit:]]+\\]: Accepted publickey for [^ ]+",
  "^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ CRON\\[[[:digit:]]+\\]: ",
  "session opened",
  "Hits: (-?[.[:digit:]]*)+, size:",
  "^(a|b)\\1$",
  "x*",
];

test("matchAll = every rule tested on its own, ascending", () => {
  const rs = rules(SOURCES);
  const index = new RuleIndex(rs);
  const lines = [
    "Nov 25 10:00:00 web1 sshd[12]: Accepted publickey for alice from x",
    "Nov 25 10:00:00 web1 CRON[3]: pam_unix(cron:session): session opened for user root",
    "Nov  5 10:00:00 web1 CRON[3]: x",
    "amavis: Hits: 1.1, size: 3",
    "aa", "ab", "", "nothing here",
  ];
  for (const l of lines) {
    const want = rs.filter((r) => r.test(l)).map((r) => r.id);
    expect({ l, got: index.matchAll(l) }).toEqual({ l, got: want });
  }
  expect(index.matchAll(lines[1])).toEqual([1, 2, 5]);
  expect(index.stats().indexed).toBeGreaterThanOrEqual(3);
});
