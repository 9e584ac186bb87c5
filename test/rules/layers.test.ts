// logcheck's layering on hand-made lines: every section rule of logcheck
// checked against logcheck's grep pipeline, the kind of each section, bad
// rules, explanations, hostile bytes.

import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RuleTree } from "../../src/rules/home.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { grepPipeline } from "../../bench/support/grep-pipeline.ts";
import { classifierOf, reportOf, titles, makeHomeIn } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "layers-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const makeHome = (name: string, tree: RuleTree) => makeHomeIn(tmp, name, tree);

// A tree that exercises every section rule of logcheck.
const SECTIONS_TREE: RuleTree = {
  "cracking.d/logcheck": "ATTACK\nEVIL\n",
  "cracking.d/evil": "EVIL\n",
  "cracking.d/logchecker": "ATTACK two\n",
  "cracking.d/foo.dpkg-old": "SHOULDNOTLOAD\n",
  "cracking.d/foo~": "SHOULDNOTLOAD\n",
  "cracking.ignore.d/evil": "EVIL but ok\n",
  "cracking.ignore.d/logcheck-evil": "EVIL test\n",
  "cracking.ignore.d/local-x": "ATTACK from trusted\n",
  "violations.d/logcheck": "denied\nFAILED\n",
  "violations.d/sudo": "sudo: .*\n",
  "violations.d/empty": "# nothing here\n",
  "violations.ignore.d/sudo": "sudo: .*COMMAND=/usr/bin/apt\n",
  "violations.ignore.d/logcheck-sudo": "sudo: .*harmless\n",
  "violations.ignore.d/logcheck": "denied politely\n",
  "violations.ignore.d/local": "FAILED but fine\n",
  "violations.ignore.d/local-extra": "denied by policy\n",
  "violations.ignore.d/other": "FAILED other\n",
  "ignore.d.paranoid/noise": "^noise paranoid\n",
  "ignore.d.server/noise": "^noise server\n",
  "ignore.d.server/cron": "CRON\n",
  "ignore.d.workstation/noise": "^noise workstation\n",
  "ignore.d.server/crlf": "^crlf rule\r\n^no final newline",
};
const SECTION_LINES = [
  "ATTACK here", "ATTACK two here", "ATTACK from trusted host", "EVIL plan", "EVIL but ok", "EVIL test", "EVIL and ATTACK",
  "SHOULDNOTLOAD", "access denied", "access denied politely", "request denied by policy", "FAILED login", "FAILED but fine",
  "FAILED other", "sudo: alice : COMMAND=/bin/sh", "sudo: alice : COMMAND=/usr/bin/apt", "sudo: harmless thing",
  "sudo: ATTACK via sudo", "sudo: EVIL via sudo", "noise paranoid", "noise server", "noise workstation", "CRON job ran",
  "CRON denied", "crlf rule", "no final newline here", "plain line", "trailing blanks   ", "tab and cr\t\r", "dup", "dup", "",
];

for (const crackingIgnore of [false, true]) {
  for (const level of ["paranoid", "server", "workstation"] as const) {
    test(`every section rule on hand-made lines = logcheck's grep pipeline (${level}, crackingIgnore ${crackingIgnore})`, async () => {
      const home = makeHome(`sections-${level}-${crackingIgnore}`, SECTIONS_TREE);
      const input = join(home, "input.log");
      writeFileSync(input, Buffer.from(SECTION_LINES.join("\n") + "\n", "latin1"));
      const want = grepPipeline({ home, level, input, crackingIgnore });
      const { classifier: c, from } = await loadRuleSet({ home }, level, { crackingIgnore });
      expect(from).toBe("home");
      const rep = reportOf(c, readFileSync(input).toString("latin1").split("\n").slice(0, -1));
      expect(rep.entries()).toEqual(want);
      expect(want.length).toBeGreaterThanOrEqual(4);
    });
  }
}

test("a bad rule is one problem with FILE:LINE and is skipped; the rest of its file works", () => {
  const tree: RuleTree = {
    "violations.d/bad": "ok rule\n(unclosed\n[z-a]\nanother ok\n",
    "ignore.d.server/x": "a{2,1}\n^ignored$\n",
  };
  const c = classifierOf(tree, "server");
  expect(c.problems).toEqual([
    { file: "violations.d/bad", line: 2, message: "Unmatched ( or \\(" },
    { file: "violations.d/bad", line: 3, message: "Invalid range end" },
    { file: "ignore.d.server/x", line: 1, message: "Invalid content of \\{\\}" },
  ]);
  expect(titles(c.classify("this is an ok rule"))).toEqual(["Security Events for bad"]);
  expect(titles(c.classify("another ok one"))).toEqual(["Security Events for bad"]);
  expect(titles(c.classify("ignored"))).toEqual([]);
  expect(titles(c.classify("(unclosed"))).toEqual(["System Events"]);
});

test("explanations name the deciding rule", () => {
  const c = classifierOf(SECTIONS_TREE, "server");
  expect(c.explain("noise server x").why).toEqual(["ignored by ignore.d.server/noise:1"]);
  expect(c.explain("sudo: alice : COMMAND=/usr/bin/apt").why[0]).toBe("violation by violations.d/sudo:1, cancelled by violations.ignore.d/sudo:1");
  expect(c.explain("EVIL plan").why).toContain("Security Alerts for evil: alerted by cracking.d/evil:1");
});

test("hostile bytes never throw and wide strings are read as UTF-8 bytes", () => {
  const c = classifierOf({ "ignore.d.server/x": "^caf\xc3\xa9$\n" }, "server");
  expect(titles(c.classify("caf\u00e9\u2603"))).toEqual(["System Events"]);
  expect(titles(c.classify("caf\xc3\xa9"))).toEqual([]);
  expect(titles(c.classify("caf\u00e9"))).toEqual(["System Events"]); // one byte 0xe9 is not the UTF-8 pair
  for (const l of ["\x00", "\xff\xfe", "a".repeat(100000), "\r\n", "\u{1F600}"]) expect(() => c.classify(l)).not.toThrow();
});

test("each section comes with its kind: alert, violation or system", () => {
  const c = classifierOf(SECTIONS_TREE, "server");
  expect(c.classify("EVIL plan")).toEqual([{ kind: "alert", section: "Security Alerts for evil" }]);
  expect(c.classify("ATTACK here")).toEqual([{ kind: "alert", section: "Security Alerts" }]);
  expect(c.classify("FAILED login")).toEqual([{ kind: "violation", section: "Security Events" }]);
  expect(c.classify("sudo: alice : COMMAND=/bin/sh")).toEqual([{ kind: "violation", section: "Security Events for sudo" }]);
  expect(c.classify("plain line")).toEqual([{ kind: "system", section: "System Events" }]);
  expect(c.classify("noise server")).toEqual([]);
  // a cracking.d file whose title text looks like another kind still raises alerts
  const odd = classifierOf({ "cracking.d/x": "boom\n", "violations.d/logcheck": "boom\n" }, "server");
  expect(odd.classify("boom")).toEqual([{ kind: "alert", section: "Security Alerts for x" }]);
});

test("explain gives the same verdict as classify, with the line as matched", () => {
  const c = classifierOf(SECTIONS_TREE, "server");
  for (const l of SECTION_LINES) expect(c.explain(l).verdict).toEqual(c.classify(l));
  expect(c.explain("plain line \t ").line).toBe("plain line");
  expect(c.explain("plain line")).toEqual({ line: "plain line", verdict: [{ kind: "system", section: "System Events" }], why: ["reported: no rule matched"] });
  expect(c.sectionTitles()).toEqual(["Security Alerts for evil", "Security Alerts", "Security Alerts for logchecker", "Security Events for empty", "Security Events", "Security Events for sudo", "System Events"]);
});
