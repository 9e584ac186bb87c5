// The compile cost of one careless or generated rule is bounded (compile.ts):
// a 1 MB literal is refused with FILE:LINE, a 10,000-word alternation is
// compiled cheaply and classifies correctly, a rule too large for the
// linear-time matcher is refused - through loadRuleSet, and through
// `--test-rules` on the compiled binary with its peak memory read from
// /proc/PID/status (a correctness bound, not a benchmark).

import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileRule, MAX_RULE_BYTES } from "../../src/rules/compile.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { BIN, ensureBinary } from "../support/binary.ts";
import { rng } from "../../bench/support/gen.ts";

const tmp = mkdtempSync(join(tmpdir(), "limits-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const r = rng(2026);
const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const WORDS = Array.from({ length: 10000 }, (_, i) => Array.from({ length: 5 + Math.floor(r() * 8) }, () => LETTERS[Math.floor(r() * 26)]).join("") + i);
const MEGA = Array.from({ length: 1 << 20 }, () => "abcdefghij"[Math.floor(r() * 10)]).join("");
const WORD_RULE = `^[A-Z][a-z]{2} [ :0-9]{11} [._[:alnum:]-]+ app\\[[0-9]+\\]: banned word (${WORDS.join("|")}) used$`;
const H = "Nov 25 10:00:00 host app[42]:";
const LINES = [`${H} banned word ${WORDS[7777]} used`, `${H} banned word ${WORDS[7777]}x used`, `${H} ${MEGA.slice(0, 200)}`, `${H} Failed password for root`];

const home = join(tmp, "rules");
mkdirSync(join(home, "violations.d"), { recursive: true });
mkdirSync(join(home, "ignore.d.server"), { recursive: true });
writeFileSync(join(home, "violations.d", "careless"), `Failed password\n${MEGA}\n${WORD_RULE}\n`);

test("through loadRuleSet: the 1 MB literal is refused with FILE:LINE, the word list classifies on the native engine", async () => {
  const t = performance.now();
  const res = await loadRuleSet({ home }, "server", { fallback: {} });
  const secs = (performance.now() - t) / 1000;
  expect(res.problems).toEqual([`${home}/violations.d/careless:2: rule too long (${MEGA.length} bytes, the limit is ${MAX_RULE_BYTES})`]);
  expect(res.risky).toEqual([]); // the word list is proven safe as its trie
  const c = res.classifier;
  expect(c.classify(LINES[0])).toEqual([{ kind: "violation", section: "Security Events for careless" }]);
  expect(c.classify(LINES[1])).toEqual([{ kind: "system", section: "System Events" }]);
  expect(c.classify(LINES[2])).toEqual([{ kind: "system", section: "System Events" }]);
  expect(c.classify(LINES[3])).toEqual([{ kind: "violation", section: "Security Events for careless" }]);
  expect(secs).toBeLessThan(10); // was 18 s for the word list alone: a bound, not a benchmark
});

test("a word list not safe for the native engine and too large for the DFA is refused, not sent to a slow engine", () => {
  const t = performance.now();
  const c = compileRule({ file: "violations.d/careless", line: 9, source: `.*(${WORDS.join("|")}) from` }, 0, true);
  expect("problem" in c && c.problem.message).toMatch(/^rule too large for the linear-time matcher \(more than 20000 NFA states\); it is not safe for the native engine/);
  expect(performance.now() - t).toBeLessThan(10000);
});

/** Run the binary to its end, reading its VmHWM (peak RSS) from /proc while it runs. */
async function runMeasured(args: string[]): Promise<{ code: number; stdout: string; stderr: string; peakKiB: number }> {
  ensureBinary();
  const p = Bun.spawn([BIN, ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin" }, cwd: tmp });
  let peakKiB = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      try {
        const m = readFileSync(`/proc/${p.pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch { /* exited */ }
      await Bun.sleep(5);
    }
  })();
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  done = true;
  await poll;
  return { code, stdout, stderr, peakKiB };
}

test("--test-rules end to end: refused with FILE:LINE, the word list classifies, peak memory stays bounded", async () => {
  const input = join(tmp, "input.log");
  writeFileSync(input, LINES.join("\n") + "\n");
  const res = await runMeasured(["--test-rules", input, "--rules", home]);
  expect(res.stderr).toBe(`${home}/violations.d/careless:2: rule too long (${MEGA.length} bytes, the limit is ${MAX_RULE_BYTES})`);
  expect(res.code).toBe(1);
  expect(res.stdout).toContain(`${LINES[0]}\n`);
  expect(res.stdout).toContain(`${LINES[3]}\n`);
  expect(res.stdout.indexOf("System Events")).toBeLessThan(res.stdout.indexOf(LINES[1]));
  expect(res.peakKiB).toBeGreaterThan(0); // it was read
  console.log(`--test-rules peak RSS ${Math.round(res.peakKiB / 1024)} MiB`);
  expect(res.peakKiB).toBeLessThan(300 * 1024); // was 1.4 GB for the 1 MB literal
});
