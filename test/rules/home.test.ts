// Rule homes: run-parts name filtering, cleaning, level stacking and
// same-named file merging, checked against real run-parts.

import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RuleTree, readRuleHome, selectRules } from "../../src/rules/home.ts";
import { classifierOf, titles, makeHomeIn } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "home-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const makeHome = (name: string, tree: RuleTree) => makeHomeIn(tmp, name, tree);

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
  const c = classifierOf(tree, "server");
  expect(titles(c.classify("anything at all"))).toEqual(["System Events"]);
  // the rule keeps its trailing blank, log lines lose theirs: it can never match (as with logcheck)
  expect(titles(c.classify("keep me "))).toEqual(["System Events"]);
  expect(titles(c.classify("x #not a comment"))).toEqual([]);
});

test("levels stack and same-named files of several levels are merged", () => {
  const tree: RuleTree = {
    "ignore.d.paranoid/noise": "^p$\n",
    "ignore.d.server/noise": "^s$\n",
    "ignore.d.workstation/noise": "^w$\n",
    "ignore.d.workstation/other": "^o$\n",
  };
  const v = (level: "paranoid" | "server" | "workstation", l: string) => classifierOf(tree, level).classify(l).length === 0;
  expect([v("paranoid", "p"), v("paranoid", "s"), v("paranoid", "w")]).toEqual([true, false, false]);
  expect([v("server", "p"), v("server", "s"), v("server", "w")]).toEqual([true, true, false]);
  expect([v("workstation", "p"), v("workstation", "s"), v("workstation", "w"), v("workstation", "o")]).toEqual([true, true, true, true]);
  const merged = selectRules(tree, "workstation", false).ignore;
  expect(merged.map((f) => f.name)).toEqual(["noise", "other"]);
  expect(merged[0].rules.map((r) => r.file)).toEqual(["ignore.d.workstation/noise", "ignore.d.server/noise", "ignore.d.paranoid/noise"]);
});
