// Compiling in a child process (src/rules/child.ts): the real binary compiles
// a big rule set and the daemon side decodes the same verdicts; a child that
// fails, or answers for another build, costs a notice and an in-process
// compile, never a wrong verdict; small sets are not worth a process.
import { expect, test } from "bun:test";
import { embeddedRules } from "../../src/embedded.ts";
import { childCompiler, parseChildOutput } from "../../src/rules/child.ts";
import { selfCommand } from "../../src/util/selfchild.ts";
import { ENGINE_ID } from "../../src/rules/cache.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BIN, ensureBinary, run, tempDir, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";
import { memoryCache } from "./helpers.ts";

/** The embedded rules and 400 more ignore rules: big enough to go to a child. */
function bigTree(): Record<string, string> {
  const extra = Array.from({ length: 400 }, (_, i) => `^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ daemon${i}\\[[0-9]+\\]: job (started|done) id=[0-9a-f]+$`).join("\n");
  return { ...embeddedRules(), "ignore.d.server/many": `${extra}\n` };
}

const H = "Nov 25 10:00:00 host";
const LINES = [
  `${H} daemon17[42]: job done id=beef`,
  `${H} daemon17[42]: job exploded id=beef`,
  `${H} su[123]: FAILED SU (to root) alice on pts/1`,
  `${H} sshd[1]: Invalid user admin from 192.0.2.9 port 22`,
  `${H} something nobody wrote a rule for`,
];

test("the real binary compiles a big set in a child: same verdicts as a compile here, the entry cached", async () => {
  ensureBinary();
  const here = await loadRuleSet({ tree: bigTree() }, "server");
  const cache = memoryCache();
  const r = await loadRuleSet({ tree: bigTree() }, "server", { cache, compiler: childCompiler([BIN]) });
  expect(r.cacheNotice).toBeNull();
  expect(r.summary).toContain("compiled in a child process");
  expect(r.cached).toBe(false);
  expect(cache.puts).toBe(1);
  expect(r.classifier.rules.length).toBe(here.classifier.rules.length);
  for (const l of LINES) expect(r.classifier.explain(l)).toEqual(here.classifier.explain(l));
  // and the next load is a plain cache hit
  const again = await loadRuleSet({ tree: bigTree() }, "server", { cache, compiler: childCompiler(["/bin/false"]) });
  expect(again.cached).toBe(true);
  expect(again.cacheNotice).toBeNull();
});

test("a child that fails or answers for another build: a notice, a compile here, right verdicts", async () => {
  const here = await loadRuleSet({ tree: bigTree() }, "server");
  const failing = await loadRuleSet({ tree: bigTree() }, "server", { cache: memoryCache(), compiler: childCompiler(["/bin/false"]) });
  expect(failing.cacheNotice).toMatch(/^rules: compiling in a child process failed \(it exited with 1\); compiled in the daemon$/);
  expect(failing.summary).not.toContain("child process");
  const other = `integrityd-rules ${"0".repeat(16)} ${"a".repeat(64)}`;
  const foreign = await loadRuleSet({ tree: bigTree() }, "server", { cache: memoryCache(), compiler: childCompiler(["/bin/sh", "-c", `printf '%s\\nxyz' '${other}'`]) });
  expect(foreign.cacheNotice).toContain("(another build's rules engine)");
  const garbage = await loadRuleSet({ tree: bigTree() }, "server", { cache: memoryCache(), compiler: childCompiler(["/bin/sh", "-c", `printf 'integrityd-rules %s %s\\nnot zstd' '${ENGINE_ID}' '${"b".repeat(64)}'`]) });
  expect(garbage.cacheNotice).toContain("(checksum mismatch)");
  for (const r of [failing, foreign, garbage]) for (const l of LINES) expect(r.classifier.explain(l)).toEqual(here.classifier.explain(l));
});

test("a small set is compiled here: no process for 23 rules", async () => {
  const cache = memoryCache();
  const r = await loadRuleSet({ tree: embeddedRules() }, "server", { cache, compiler: childCompiler(["/bin/false"]) });
  expect(r.cacheNotice).toBeNull();
  expect(r.summary).not.toContain("child process");
  expect(cache.puts).toBe(1);
});

test("the child's header is checked; how the program starts itself", () => {
  const good = new TextEncoder().encode(`integrityd-rules ${ENGINE_ID} ${"c".repeat(64)}\nBYTES`);
  expect(new TextDecoder().decode(parseChildOutput(good).value)).toBe("BYTES");
  expect(parseChildOutput(good).sum).toBe("c".repeat(64));
  expect(() => parseChildOutput(new TextEncoder().encode("no newline"))).toThrow("no header");
  expect(() => parseChildOutput(new TextEncoder().encode(`integrityd-rules ${ENGINE_ID} short\n`))).toThrow("malformed");
  expect(() => parseChildOutput(new TextEncoder().encode(`integrityd-rules ${ENGINE_ID} ${"c".repeat(64)} extra\n`))).toThrow("malformed");
  expect(selfCommand("/$bunfs/root/integrityd")).toEqual(["/proc/self/exe"]);
  expect(selfCommand("/work/x/src/main.ts")).toEqual(["/proc/self/exe", "/work/x/src/main.ts"]);
  expect(selfCommand("/work/x/test/rules/child.test.ts")).toBeNull();
});

test("the daemon compiles a big rule home in a child, classifies with it, and restarts from the cache", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const rules = join(dir, "rules");
    for (const [name, text] of Object.entries({ ...bigTree(), "cracking.d/local": "EVIL-ATTACK\n" })) {
      mkdirSync(join(rules, dirname(name)), { recursive: true });
      writeFileSync(join(rules, name), text);
    }
    const logf = join(dir, "app.log");
    writeFileSync(logf, "");
    const conf = writeConfig(dir, [`email = none`, `database = ${join(dir, "db.sqlite")}`, `logrules = server:${rules}`, `log = ${logf}`, `logchecktime = 1`, `logreporttime = 0`, `logreportholdoff = 0`, `hints = off`].join("\n") + "\n");
    expect(run(["--init-db", "--config", conf]).code).toBe(0);
    let d = new DaemonProc(["--config", conf, "--stdout"]);
    await d.waitFor(/rules: .*\(server\): \d+ rules.*, compiled in a child process/, "stderr", 30000);
    await d.waitFor(/logs: following/, "stderr", 10000);
    appendFileSync(logf, `${H} daemon17[42]: job done id=beef\n${H} sshd[9]: EVIL-ATTACK from 192.0.2.7\n`);
    await d.waitFor(/EVIL-ATTACK/, "stdout", 20000);
    expect(d.stdout).not.toContain("job done");
    d.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    d = new DaemonProc(["--config", conf, "--stdout"]);
    await d.waitFor(/rules: .*\(server\): \d+ rules.*, from the compiled-rules cache/, "stderr", 30000);
    await d.waitFor(/integrityd started/, "stderr", 10000); // its signal handlers are in place
    d.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    expect(d.stderr).not.toContain("compiling in a child process failed");
  } finally {
    cleanup();
  }
}, 90000);
