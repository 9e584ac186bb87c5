// Journal bench: entries per second through our export parser + rsyslog-line
// rendering + classification with Debian's logcheck-database (server level)
// + spoof check (bench/journal/pipeline.ts, as the journal task does it, minus
// the database), against journalctl -o export alone writing to /dev/null, on
// the same journal in the same run. Whole processes: wall time and peak RSS
// (GNU time), start-up included. Ours is measured fed by journalctl (what the
// daemon does: the overhead over journalctl is the figure), and on the same
// export bytes from memory (our own cost per entry, wall and CPU, cold — the
// first pass of a fresh process, JIT and heap still growing — and warm, the
// third pass, as in a running daemon; the target is >= 100,000 entries/s).
// The rule load (once per daemon start) is reported apart.
//   bun bench/journal/run.ts [ENTRIES]   (200,000; BENCH_JOURNAL_KEEP=1 keeps the journal and its export)
// The journal is written by systemd-journal-remote from generated entries
// (templates of sshd, CRON, systemd, kernel, sudo, postfix lines with random
// fields; every `_` field journald adds; 1 in 50 a spoofed sshd line).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { getLogcheckDb } from "../support/logcheck-db.ts";
import { rng } from "../support/gen.ts";
import { existsSync } from "node:fs";

const N = Number(process.argv[2] ?? 200_000);
const REMOTE = ["/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"].find((p) => existsSync(p));
const JOURNALCTL = ["/usr/bin/journalctl", "/bin/journalctl"].find((p) => existsSync(p));
if (!REMOTE || !JOURNALCTL) {
  console.log("journal bench skipped: systemd-journal-remote and journalctl are needed (Debian packages systemd-journal-remote, systemd)");
  process.exit(0);
}
const db = getLogcheckDb();
const dir = mkdtempSync(join(tmpdir(), "integrityd-bench-journal-"));

function field(k: string, v: string): string {
  return `${k}=${v}\n`;
}

function corpus(): Buffer {
  const r = rng(42);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const ip = () => `192.0.2.${Math.floor(r() * 250)}`;
  const kinds: [string, string, string, () => string][] = [
    ["sshd", "/usr/sbin/sshd", "ssh.service", () => `Accepted publickey for user${Math.floor(r() * 99)} from ${ip()} port ${1024 + Math.floor(r() * 60000)} ssh2: ED25519 SHA256:abcdef${Math.floor(r() * 1e6)}`],
    ["sshd", "/usr/sbin/sshd", "ssh.service", () => `Failed password for invalid user admin${Math.floor(r() * 9)} from ${ip()} port ${1024 + Math.floor(r() * 60000)} ssh2`],
    ["CRON", "/usr/sbin/cron", "cron.service", () => `(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)`],
    ["CRON", "/usr/sbin/cron", "cron.service", () => `pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`],
    ["systemd", "/usr/lib/systemd/systemd", "init.scope", () => `Started session-${Math.floor(r() * 999)}.scope - Session ${Math.floor(r() * 999)} of User root.`],
    ["kernel", "", "", () => `[UFW BLOCK] IN=eth0 OUT= MAC=00:00:00:00 SRC=${ip()} DST=10.0.0.1 LEN=40 PROTO=TCP SPT=${Math.floor(r() * 65535)} DPT=23`],
    ["sudo", "/usr/bin/sudo", "session-1.scope", () => `   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update`],
    ["postfix/smtpd", "/usr/lib/postfix/sbin/smtpd", "postfix@-.service", () => `connect from unknown[${ip()}]`],
  ];
  const parts: string[] = [];
  const t0 = Date.now() * 1000 - 86_400_000_000;
  for (let i = 0; i < N; i++) {
    let [id, exe, unit, msg] = pick(kinds);
    let uid = id === "sudo" ? "1000" : "0";
    if (i % 50 === 0) {
      id = "sshd";
      exe = "/usr/bin/logger";
      uid = "1000";
    }
    const us = t0 + i * 400;
    let e = field("__REALTIME_TIMESTAMP", String(us)) + field("__MONOTONIC_TIMESTAMP", String(i * 400)) + field("_BOOT_ID", "0123456789abcdef0123456789abcdef") +
      field("_MACHINE_ID", "fedcba9876543210fedcba9876543210") + field("_HOSTNAME", "bench-host") + field("PRIORITY", "6") + field("SYSLOG_FACILITY", "4");
    if (id === "kernel") e += field("_TRANSPORT", "kernel") + field("SYSLOG_IDENTIFIER", "kernel");
    else {
      e += field("_TRANSPORT", "syslog") + field("SYSLOG_IDENTIFIER", id) + field("SYSLOG_PID", String(1000 + (i % 30000))) + field("_PID", String(1000 + (i % 30000))) +
        field("_UID", uid) + field("_GID", uid) + field("_COMM", exe.slice(exe.lastIndexOf("/") + 1)) + field("_EXE", exe) + field("_CMDLINE", exe) +
        field("_SYSTEMD_UNIT", unit) + field("_SYSTEMD_CGROUP", `/system.slice/${unit}`) + field("_CAP_EFFECTIVE", "1ffffffffff") + field("_SOURCE_REALTIME_TIMESTAMP", String(us - 3));
    }
    parts.push(e + field("MESSAGE", msg()) + "\n");
  }
  return Buffer.from(parts.join(""), "latin1");
}

interface Measured { wall: number; rssKiB: number; out: string }

function measure(args: string[]): Measured {
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M", ...args], { stdout: "pipe", stderr: "pipe" });
  const lines = r.stderr.toString().trim().split("\n");
  const [wall, rss] = lines[lines.length - 1].split(" ").map(Number);
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr.toString()}`);
  return { wall, rssKiB: rss, out: r.stdout.toString() };
}

try {
  const g0 = performance.now();
  const input = corpus();
  const w = Bun.spawnSync([REMOTE, `--output=${join(dir, "system.journal")}`, "-"], { stdin: input, stdout: "ignore", stderr: "pipe" });
  if (w.exitCode !== 0) throw new Error(`systemd-journal-remote: ${w.stderr.toString()}`);
  console.log(`journal bench: ${N} entries (${(input.length / 1048576).toFixed(0)} MB of export text) written by systemd-journal-remote in ${((performance.now() - g0) / 1000).toFixed(1)} s; rules: logcheck-database ${db.version}, server level`);
  const jc = [JOURNALCTL, "-o", "export", "--no-pager", `--directory=${dir}`];
  const exportFile = join(dir, "export");
  const dump = Bun.spawnSync(jc, { stdout: Bun.file(exportFile), stderr: "pipe" }); // also warms the page cache
  if (dump.exitCode !== 0) throw new Error(`journalctl: ${dump.stderr.toString()}`);
  const pipeline = join(import.meta.dir, "pipeline.ts");
  for (let round = 1; round <= Number(process.env.BENCH_JOURNAL_ROUNDS ?? 2); round++) {
    const peer = measure(["sh", "-c", 'exec "$@" > /dev/null', "sh", ...jc]);
    const fed = measure([process.execPath, pipeline, "journalctl", dir, db.rulesHome]);
    const mem = measure([process.execPath, pipeline, "file", exportFile, db.rulesHome]);
    const parse = measure([process.execPath, pipeline, "file", exportFile, db.rulesHome, "parse-only"]);
    type Out = { entries: number; events: number; loadSeconds: number; readSeconds: number; readCpuSeconds: number; warmReadSeconds: number; warmReadCpuSeconds: number };
    const [f, m, p] = [fed, mem, parse].map((x) => JSON.parse(x.out) as Out);
    for (const o of [f, m, p]) if (o.entries !== N) throw new Error(`read ${o.entries} of ${N} entries`);
    const rate = (sec: number) => `${Math.round(N / sec).toLocaleString("en")} entries/s`;
    console.log(`round ${round}:
  peer  journalctl -o export > /dev/null       ${peer.wall.toFixed(2)} s whole process (${rate(peer.wall)}), peak RSS ${Math.round(peer.rssKiB / 1024)} MiB
  ours  journalctl | parse + classify          ${fed.wall.toFixed(2)} s whole process (rules ${f.loadSeconds.toFixed(2)} s, reading ${f.readSeconds.toFixed(2)} s: ${rate(f.readSeconds)}), peak RSS ${Math.round(fed.rssKiB / 1024)} MiB (ours; journalctl's beside it); ${f.events} events
        overhead over journalctl alone:        ${(f.readSeconds - peer.wall).toFixed(2)} s (${(f.readSeconds / peer.wall).toFixed(2)}x its time, rule load not counted)
  ours  parse + classify, export in memory     cold: ${m.readSeconds.toFixed(2)} s wall, ${m.readCpuSeconds.toFixed(2)} s CPU: ${rate(m.readSeconds)} (${rate(m.readCpuSeconds)} per CPU second); warm (3rd pass, the daemon's steady state): ${m.warmReadSeconds.toFixed(2)} s wall, ${m.warmReadCpuSeconds.toFixed(2)} s CPU: ${rate(m.warmReadSeconds)} (${rate(m.warmReadCpuSeconds)} per CPU second); whole process ${mem.wall.toFixed(2)} s, peak RSS ${Math.round(mem.rssKiB / 1024)} MiB
  ours  parse only, export in memory           cold: ${p.readSeconds.toFixed(2)} s wall: ${rate(p.readSeconds)} (${rate(p.readCpuSeconds)} per CPU second); warm: ${rate(p.warmReadSeconds)} (${rate(p.warmReadCpuSeconds)} per CPU second)`);
  }
  const load = readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(" ");
  console.log(`load average at the end: ${load} (on ${cpus().length} CPUs; other work on the machine slows every figure)`);
} finally {
  if (process.env.BENCH_JOURNAL_KEEP === "1") console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
