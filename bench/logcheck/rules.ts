// bench/logcheck's rules section (called by run.ts): what a user feels of the
// rule engine, whole processes with start-up included.
//  - loadRuleSet from a compiled-rules cache in memory: wall, CPU, RSS;
//  - one line through `dist/integrityd --test-rules`: cold (no config, so no
//    cache) and warm (a config whose database holds the compiled-rules cache,
//    filled by a first run): wall, CPU (user+sys), peak RSS;
//  - the real corpus: the fail2ban test logs from Debian's fail2ban package
//    (bench/support/fail2ban-corpus.ts), repeated with varied classic
//    timestamps to 100,000 lines: warm lines/s in-process, and a whole
//    `--test-rules` run (warm cache) against logcheck's grep pipeline on the
//    same file in the same run, output compared byte for byte.

import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RuleCacheStore } from "../../src/rules/cache.ts";
import type { Classifier } from "../../src/rules/layers.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { REPO_ROOT } from "../support/logcheck-db.ts";

const REAL_LINES = 100_000;
const CLASSIC = /^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d /;

interface Ctx {
  tmp: string;
  rulesHome: string;
  level: "server";
  f2b: string[];
  stamp: () => string;
  fmt: (n: number) => string;
  load: () => Promise<Classifier>;
  grep: (file: string) => { secs: number; entries: Array<[string, string[]]> };
  reportText: (entries: Array<[string, string[]]>) => string;
}

interface Proc {
  wall: number;
  cpu: number;
  rssMiB: number;
  out: string;
}

/** One `dist/integrityd` process under /usr/bin/time, its report to a file. */
function proc(tmp: string, args: string[], stdin: string | null): Proc {
  const outFile = join(tmp, "rules-out.txt");
  const p = Bun.spawnSync(["/usr/bin/time", "-f", "%e %U %S %M", join(REPO_ROOT, "dist", "integrityd"), ...args], {
    stdin: stdin === null ? "ignore" : new Blob([stdin]), stdout: Bun.file(outFile), stderr: "pipe",
  });
  const [e, u, s, m] = p.stderr.toString().trim().split("\n").pop()!.split(" ").map(Number);
  return { wall: e, cpu: u + s, rssMiB: m / 1024, out: readFileSync(outFile).toString("latin1") };
}

const median = (xs: Proc[]): Proc => [...xs].sort((a, b) => a.cpu - b.cpu)[xs.length >> 1];
const show = (p: Proc) => `${p.wall.toFixed(2)} s wall, ${p.cpu.toFixed(2)} s CPU, ${p.rssMiB.toFixed(0)} MiB peak`;

export async function rulesSection(c: Ctx): Promise<boolean> {
  const bin = join(REPO_ROOT, "dist", "integrityd");
  if (!existsSync(bin)) {
    console.log("rules: skipped (no dist/integrityd: make build)");
    return true;
  }
  const conf = join(c.tmp, "rules.conf");
  const database = join(c.tmp, "rules.sqlite");
  writeFileSync(conf, `database = ${database}\nlogrules = ${c.level}:${c.rulesHome}\n`);
  chmodSync(conf, 0o600);
  chmodSync(c.tmp, 0o700);
  const init = Bun.spawnSync([bin, "--config", conf, "--init-db"], { stderr: "pipe" });
  if (init.exitCode !== 0) throw new Error(`--init-db: ${init.stderr.toString()}`);
  const one = ["--test-rules", "-", "--rules", c.rulesHome, "--level", c.level];
  const cold = median([0, 1, 2].map(() => proc(c.tmp, one, "line\n")));
  proc(c.tmp, ["--config", conf, ...one], "line\n"); // fills the cache
  const warm = median([0, 1, 2, 3, 4].map(() => proc(c.tmp, ["--config", conf, ...one], "line\n")));
  const base = median([0, 1, 2].map(() => proc(c.tmp, ["--version"], null)));
  // loadRuleSet's own share, in this process: a compile that fills a cache in memory, then loads from it
  const mem = new Map<string, { sum: string; value: Uint8Array }>();
  const cache: RuleCacheStore = { where: "memory", get: (k) => mem.get(k) ?? null, put: (k, sum, value) => void mem.set(k, { sum, value }) };
  await loadRuleSet({ home: c.rulesHome }, c.level, { fallback: {}, cache });
  Bun.gc(true);
  const rss0 = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0w = performance.now();
  const w = await loadRuleSet({ home: c.rulesHome }, c.level, { fallback: {}, cache });
  const cpuW = process.cpuUsage(cpu0);
  const wallW = performance.now() - t0w;
  Bun.gc(true);
  const stored = [...mem.values()][0]?.value.length ?? 0;
  console.log(`rules: loadRuleSet from the cache: ${(wallW / 1000).toFixed(3)} s wall, ${((cpuW.user + cpuW.system) / 1e6).toFixed(3)} s CPU, RSS ${(process.memoryUsage.rss() / 1048576).toFixed(0)} MiB after it (+${((process.memoryUsage.rss() - rss0) / 1048576).toFixed(0)} MiB), entry ${(stored / 1e6).toFixed(2)} MB; ${w.cached ? "cached" : "NOT CACHED"}`);
  console.log(`rules: one line, --test-rules cold (no cache): ${show(cold)}`);
  console.log(`rules: one line, --test-rules with the compiled-rules cache: ${show(warm)} (the bare process, --version: ${show(base)})`);

  // the real corpus
  const lines: string[] = [];
  for (let i = 0; lines.length < REAL_LINES; i++) {
    const l = c.f2b[i % c.f2b.length];
    lines.push(i < c.f2b.length || !CLASSIC.test(l) ? l : c.stamp() + l.slice(15));
  }
  const file = join(c.tmp, "real.log");
  writeFileSync(file, Buffer.from(lines.join("\n") + "\n", "latin1"));
  const cl = await c.load();
  for (const l of lines) cl.classify(l); // warm-up: JIT, lazy DFA states
  const t0 = performance.now();
  for (let k = 0; k < 3; k++) for (const l of lines) cl.classify(l);
  const warmRate = (3 * lines.length) / ((performance.now() - t0) / 1000);
  console.log(`rules: real corpus: ${c.fmt(lines.length)} lines of the fail2ban test logs (${c.fmt(c.f2b.length)} distinct, timestamps varied), warm: ${c.fmt(warmRate)} lines/s`);
  const g = c.grep(file);
  const whole = proc(c.tmp, ["--config", conf, "--test-rules", file, "--rules", c.rulesHome, "--level", c.level], null);
  const same = whole.out === c.reportText(g.entries);
  console.log(`rules: real corpus whole run: integrityd --test-rules ${show(whole)} (start-up, cached load) vs logcheck grep pipeline ${g.secs.toFixed(2)} s: ratio ${(g.secs / whole.wall).toFixed(1)}x, identical output: ${same ? "yes" : "NO"}`);
  return same;
}
