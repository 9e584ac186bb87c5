// A backlog of 64 KiB lines that hit one of Debian's slowest rules on the
// linear-time matcher must not hold the tailer past the daemon's 5-second stop
// budget: the follower looks at its time slice every CHECK_BYTES classified,
// and the task stops between slices. The attack is performed for real: 2,000
// such lines appended to a followed log, the real task working them off with
// Debian's logcheck-database at server level, then stop() timed.
import { afterEach, expect, test } from "bun:test";
import { appendFileSync, statSync } from "node:fs";
import { getLogcheckDb } from "../../bench/support/logcheck-db.ts";
import { rng, sample } from "../../bench/support/gen.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { type Node, parseEre } from "../../src/rules/parse.ts";
import { cleanupAll, makeEnv, sleep, start } from "./helpers.ts";

afterEach(cleanupAll);

/** A few bytes of each class of the rule: lines over them keep its DFA busy. */
function alphabet(n: Node, out: Set<number>): void {
  switch (n.t) {
    case "set": {
      const ks: number[] = [];
      for (let i = 32; i < 127; i++) if (n.set[i]) ks.push(i);
      if (ks.length <= 4) ks.forEach((k) => out.add(k));
      else { out.add(ks[0]); out.add(ks[ks.length >> 1]); }
      break;
    }
    case "cat": n.items.forEach((i) => alphabet(i, out)); break;
    case "alt": n.alts.forEach((i) => alphabet(i, out)); break;
    case "group": case "rep": alphabet(n.body, out); break;
  }
}

test("2,000 lines of 64 KiB on a slow linear rule: stop() returns within the 5-second budget", async () => {
  const db = getLogcheckDb();
  // the slowest of Debian's rules found on such lines (about 60 ms a line before slicing by bytes)
  const rules = await loadRuleSet({ home: db.rulesHome }, "server", { fallback: {} });
  const slow = rules.classifier.rules.find((r) => r.file === "ignore.d.server/snort" && r.line === 24);
  expect(slow?.kind).toBe("linear");
  const p = parseEre(slow!.source);
  if (!p.ok) throw new Error(p.error);
  const chars = new Set<number>();
  alphabet(p.value.ast, chars);
  const alpha = [...chars].map((c) => String.fromCharCode(c));
  const r = rng(7);
  const head = sample(p.value.ast, r, { extra: 0 }).slice(0, 200);
  const lines: string[] = [];
  for (let k = 0; k < 8; k++) {
    const body: string[] = [];
    for (let i = 0; i < 65536; i++) body.push(alpha[Math.floor(r() * alpha.length)]);
    lines.push((head.slice(0, head.length >> 1) + body.join("")).slice(0, 65535).replace(/\n/g, " "));
  }
  const block = Buffer.from(lines.join("\n") + "\n", "latin1");

  const env = makeEnv(["app.log"], { rules: db.rulesHome, level: "server" });
  const log = env.config.logs[0].path;
  appendFileSync(log, "");
  const task = start(env);
  await task.settle(); // followed from its (empty) end, rules loaded
  for (let i = 0; i < 2000 / 8; i++) appendFileSync(log, block);
  const size = statSync(log).size;
  void task.settle(); // work the backlog off
  await sleep(1500);
  const offset = () => (env.db.query("SELECT offset FROM logs WHERE path = ?").get(log) as { offset: number }).offset;
  const during = offset();
  expect(during).toBeGreaterThan(0); // it is busy with the backlog...
  expect(during).toBeLessThan(size); // ...and far from done
  const t0 = performance.now();
  await task.stop();
  const stopMs = performance.now() - t0;
  console.log(`stop after ${(during / 65536).toFixed(0)} lines: ${stopMs.toFixed(0)} ms`);
  expect(stopMs).toBeLessThan(5000); // the daemon's stop promise, not a benchmark
}, 120000);
