// Rule homes: run-parts name filtering, cleaning, level stacking, same-named
// file merging, every section rule of logcheck on hand-made lines - checked
// against real run-parts and logcheck's grep pipeline - and bad rules.

import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifierFromHome, classifierFromTree, sectionHeader } from "../../src/logs/classify.ts";
import { type RuleTree, readRuleHome, selectRules } from "../../src/logs/rules.ts";
import { grepPipeline } from "./grep-pipeline.ts";

const tmp = mkdtempSync(join(tmpdir(), "rules-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

function makeHome(name: string, tree: RuleTree): string {
  const home = join(tmp, name);
  for (const [rel, content] of Object.entries(tree)) {
    const p = join(home, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, Buffer.from(content, "latin1"));
  }
  return home;
}

test("file names are selected exactly as run-parts --list selects them, in C order", () => {
  const names = ["good", "Good_2", "a-b", "foo.dpkg-old", "foo~", ".hidden", "x.y", "UPPER", "9num", "caf\xe9", "local-1", "b", "B", "_u", "-dash"];
  const tree: RuleTree = {};
  for (const n of names) tree[`ignore.d.server/${n}`] = `^${n.replace(/[^A-Za-z0-9]/g, ".")}$\n`;
  const home = makeHome("runparts", tree);
  const rp = Bun.spawnSync(["run-parts", "--list", join(home, "ignore.d.server")], { env: { ...process.env, LC_ALL: "C" } });
  const want = rp.stdout.toString("latin1").split("\n").filter(Boolean).map((p) => p.slice(p.lastIndexOf("/") + 1));
  expect(want.length).toBeGreaterThan(5);
  const loaded = readRuleHome(home)!;
  const got = selectRules(loaded, "server", false).ignore.map((f) => f.name);
  expect(got).toEqual(want);
  expect(got).not.toContain("foo.dpkg-old");
  expect(got).not.toContain("foo~");
  expect(got).not.toContain(".hidden");
  // the in-memory tree applies the same filter
  expect(selectRules(tree, "server", false).ignore.map((f) => f.name)).toEqual(want);
});

test("comments and blank lines are dropped, other lines kept verbatim, empty files match nothing", () => {
  const tree: RuleTree = {
    "ignore.d.server/a": "# comment\n\n   \t\n^keep me $\n #not a comment\n",
    "ignore.d.server/empty": "# only comments\n\n",
    "violations.d/empty": "",
  };
  const set = selectRules(tree, "server", false);
  expect(set.ignore.find((f) => f.name === "a")!.rules.map((r) => [r.line, r.source])).toEqual([[4, "^keep me $"], [5, " #not a comment"]]);
  const c = classifierFromTree(tree, { level: "server" });
  expect(c.classify("anything at all").sections).toEqual(["System Events"]);
  // the rule keeps its trailing blank, log lines lose theirs: it can never match (as with logcheck)
  expect(c.classify("keep me ").sections).toEqual(["System Events"]);
  expect(c.classify("x #not a comment").sections).toEqual([]);
});

test("levels stack and same-named files of several levels are merged", () => {
  const tree: RuleTree = {
    "ignore.d.paranoid/noise": "^p$\n",
    "ignore.d.server/noise": "^s$\n",
    "ignore.d.workstation/noise": "^w$\n",
    "ignore.d.workstation/other": "^o$\n",
  };
  const v = (level: "paranoid" | "server" | "workstation", l: string) => classifierFromTree(tree, { level }).classify(l).sections.length === 0;
  expect([v("paranoid", "p"), v("paranoid", "s"), v("paranoid", "w")]).toEqual([true, false, false]);
  expect([v("server", "p"), v("server", "s"), v("server", "w")]).toEqual([true, true, false]);
  expect([v("workstation", "p"), v("workstation", "s"), v("workstation", "w"), v("workstation", "o")]).toEqual([true, true, true, true]);
  const merged = selectRules(tree, "workstation", false).ignore;
  expect(merged.map((f) => f.name)).toEqual(["noise", "other"]);
  expect(merged[0].rules.map((r) => r.file)).toEqual(["ignore.d.workstation/noise", "ignore.d.server/noise", "ignore.d.paranoid/noise"]);
});

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
    test(`every section rule on hand-made lines = logcheck's grep pipeline (${level}, crackingIgnore ${crackingIgnore})`, () => {
      const home = makeHome(`sections-${level}-${crackingIgnore}`, SECTIONS_TREE);
      const input = join(home, "input.log");
      writeFileSync(input, Buffer.from(SECTION_LINES.join("\n") + "\n", "latin1"));
      const want = grepPipeline({ home, level, input, crackingIgnore });
      const c = classifierFromHome(home, { level, crackingIgnore })!;
      const rep = c.newReport();
      for (const l of readFileSync(input).toString("latin1").split("\n").slice(0, -1)) rep.add(c.classify(l));
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
  const c = classifierFromTree(tree, { level: "server" });
  expect(c.problems).toEqual([
    { file: "violations.d/bad", line: 2, message: "Unmatched ( or \\(" },
    { file: "violations.d/bad", line: 3, message: "Invalid range end" },
    { file: "ignore.d.server/x", line: 1, message: "Invalid content of \\{\\}" },
  ]);
  expect(c.classify("this is an ok rule").sections).toEqual(["Security Events for bad"]);
  expect(c.classify("another ok one").sections).toEqual(["Security Events for bad"]);
  expect(c.classify("ignored").sections).toEqual([]);
  expect(c.classify("(unclosed").sections).toEqual(["System Events"]);
});

test("report format: title, =-=- underline of the same length, lines in input order, blank line", () => {
  expect(sectionHeader("System Events")).toBe("System Events\n=-=-=-=-=-=-=\n");
  const c = classifierFromTree({ "cracking.d/evil": "EVIL\n" }, { level: "server" });
  const rep = c.newReport();
  for (const l of ["b line", "EVIL one", "a line", "EVIL two"]) rep.add(c.classify(l));
  expect(rep.format()).toBe(
    "Security Alerts for evil\n=-=-=-=-=-=-=-=-=-=-=-=-\nEVIL one\nEVIL two\n\nSystem Events\n=-=-=-=-=-=-=\nb line\na line\n\n",
  );
});

test("explanations name the deciding rule", () => {
  const c = classifierFromTree(SECTIONS_TREE, { level: "server" });
  expect(c.classify("noise server x", true).why).toEqual(["ignored by ignore.d.server/noise:1"]);
  expect(c.classify("sudo: alice : COMMAND=/usr/bin/apt", true).why[0]).toBe("violation by violations.d/sudo:1, cancelled by violations.ignore.d/sudo:1");
  expect(c.classify("EVIL plan", true).why).toContain("Security Alerts for evil: alerted by cracking.d/evil:1");
});

test("hostile bytes never throw and wide strings are read as UTF-8 bytes", () => {
  const c = classifierFromTree({ "ignore.d.server/x": "^caf\xc3\xa9$\n" }, { level: "server" });
  expect(c.classify("caf\u00e9\u2603").sections).toEqual(["System Events"]);
  expect(c.classify("caf\xc3\xa9").sections).toEqual([]);
  expect(c.classify("caf\u00e9").sections).toEqual(["System Events"]); // one byte 0xe9 is not the UTF-8 pair
  for (const l of ["\x00", "\xff\xfe", "a".repeat(100000), "\r\n", "\u{1F600}"]) expect(() => c.classify(l)).not.toThrow();
});
