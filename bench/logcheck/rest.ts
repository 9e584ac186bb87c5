// bench/logcheck's at-rest section (called by run.ts): the shipped daemon as
// an admin runs it - Debian's server-level rules, one log, the trickle over a
// small area, change hints as configured by default, no mail - and its memory
// at rest, read from /proc/PID/status (RSS, anonymous, file-backed, peak):
//  - first start (empty database: the rules are compiled, in a child process)
//    and a restart (the compiled-rules cache), each at REST_S seconds: before
//    the daemon hands start-up's program pages back (util/trim.ts, 30 s after
//    start) and REST_S seconds after;
//  - the same daemon with the 23 embedded rules (`logrules = server:builtin`):
//    the difference is the rule set's own share;
//  - the peers in the same run: a compiled Bun program that does nothing (the
//    runtime's floor), and logcheck's grep pipeline's peak over the same
//    rules and one line (what logcheck costs while it runs).
//
// Knob: BENCH_REST_SECONDS (90).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../support/logcheck-db.ts";

const REST_S = Number(process.env.BENCH_REST_SECONDS ?? 90);
const TRIM_AT_S = 30; // util/trim.ts TRIM_AFTER_START_MS

interface Mem {
  rss: number;
  anon: number;
  file: number;
  peak: number;
}

function mem(pid: number): Mem {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile"), peak: kb("VmHWM") };
}

const show = (m: Mem) => `RSS ${m.rss.toFixed(1)} MiB (anonymous ${m.anon.toFixed(1)}, program and library pages ${m.file.toFixed(1)}), peak ${m.peak.toFixed(0)} MiB`;

/** Start the daemon on `conf`, read its memory just before the trim and REST_S s after it, stop it. */
async function daemonAtRest(bin: string, conf: string): Promise<{ before: Mem; rest: Mem; rulesLine: string }> {
  const p = Bun.spawn([bin, "--config", conf], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let err = "";
  void (async () => {
    for await (const c of p.stderr) err += new TextDecoder().decode(c);
  })();
  await Bun.sleep((TRIM_AT_S - 3) * 1000);
  const before = mem(p.pid);
  await Bun.sleep((REST_S + 3) * 1000);
  const rest = mem(p.pid);
  p.kill("SIGTERM");
  await p.exited;
  const rulesLine = /rules: [^\n]*/.exec(err)?.[0] ?? "no rules line";
  return { before, rest, rulesLine };
}

/**
 * Peak RSS (KiB) of logcheck's pipeline over Debian's server-level ignore
 * rules on one line: logcheck runs one `grep -E -v -f` per rule file (the
 * server and paranoid files of one name merged), so its peak is the largest.
 */
function grepPeakKiB(tmp: string, rulesHome: string): number {
  const merged = new Map<string, string[]>();
  for (const d of ["ignore.d.server", "ignore.d.paranoid"]) {
    for (const f of readdirSync(join(rulesHome, d)).sort()) {
      const rules = merged.get(f) ?? [];
      for (const l of readFileSync(join(rulesHome, d, f), "latin1").split("\n")) if (l.trim() !== "" && !l.startsWith("#")) rules.push(l);
      merged.set(f, rules);
    }
  }
  const line = join(tmp, "one-line");
  writeFileSync(line, "Nov 25 10:00:00 host sshd[1]: Invalid user admin from 192.0.2.9 port 22\n");
  let peak = 0;
  for (const [name, rules] of merged) {
    const file = join(tmp, `ignore-${name}`);
    writeFileSync(file, Buffer.from(rules.join("\n") + "\n", "latin1"));
    const p = Bun.spawnSync(["/usr/bin/time", "-f", "%M", "grep", "-E", "--text", "-v", "-f", file, line], { stdout: "ignore", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
    peak = Math.max(peak, Number(p.stderr.toString().trim().split("\n").pop()) || 0);
  }
  return peak;
}

export async function restSection(c: { tmp: string; rulesHome: string }): Promise<void> {
  const bin = join(REPO_ROOT, "dist", "integrityd");
  const dir = join(c.tmp, "rest");
  const area = join(dir, "area");
  mkdirSync(area, { recursive: true, mode: 0o700 });
  for (let i = 0; i < 2000; i++) writeFileSync(join(area, `f${i}`), `file ${i}\n`);
  const log = join(dir, "app.log");
  writeFileSync(log, "");
  const conf = (name: string, rules: string) => {
    const p = join(dir, `${name}.conf`);
    writeFileSync(p, [`email = none`, `database = ${join(dir, `${name}.sqlite`)}`, `area = ${area}`, `logrules = server:${rules}`, `log = ${log}`].join("\n") + "\n", { mode: 0o600 });
    const init = Bun.spawnSync([bin, "--config", p, "--init-db"], { stdout: "ignore", stderr: "pipe" });
    if (init.exitCode !== 0) throw new Error(`--init-db: ${init.stderr}`);
    return p;
  };
  console.log(`at rest: the daemon with one log, a 2,000-file area and default hints; memory ${TRIM_AT_S - 3} s after start and ${REST_S} s after the trim at ${TRIM_AT_S} s`);
  const debian = conf("debian", c.rulesHome);
  const first = await daemonAtRest(bin, debian);
  console.log(`at rest: Debian server rules, first start: before the trim ${show(first.before)}; at rest ${show(first.rest)}`);
  console.log(`at rest:   (${first.rulesLine})`);
  const again = await daemonAtRest(bin, debian);
  console.log(`at rest: Debian server rules, restart: before the trim ${show(again.before)}; at rest ${show(again.rest)}`);
  console.log(`at rest:   (${again.rulesLine})`);
  const builtin = await daemonAtRest(bin, conf("builtin", "builtin"));
  console.log(`at rest: the 23 embedded rules: at rest ${show(builtin.rest)}; Debian's rule set (restart) minus the embedded one: ${(again.rest.rss - builtin.rest.rss).toFixed(1)} MiB RSS, ${(again.rest.anon - builtin.rest.anon).toFixed(1)} MiB anonymous (the rule set's share; a negative figure is run-to-run spread)`);
  // peers: the runtime's floor, and logcheck's pipeline
  const idle = join(dir, "idle.ts");
  writeFileSync(idle, "setInterval(() => {}, 1000);\n");
  const idleBin = join(dir, "idle");
  const b = Bun.spawnSync([process.execPath, "build", "--compile", idle, "--outfile", idleBin], { stdout: "ignore", stderr: "pipe" });
  if (b.exitCode === 0) {
    const p = Bun.spawn([idleBin], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(3000);
    const m = mem(p.pid);
    p.kill();
    await p.exited;
    console.log(`at rest: peer: a compiled Bun program doing nothing: ${show(m)}`);
  }
  console.log(`at rest: peer: logcheck's grep pipeline, Debian server-level ignore files, one line: peak (its largest grep) ${(grepPeakKiB(dir, c.rulesHome) / 1024).toFixed(0)} MiB (while it runs; logcheck rests at 0 between cron runs)`);
  console.log(`at rest: target: at most 64 MiB RSS at rest (the daemon with Debian's server rules, restart row)`);
}
