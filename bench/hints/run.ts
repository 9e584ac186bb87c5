// bench/hints: change hints in the shipped binary, against the same daemon
// with `hints = off` (today's trickle alone) measured in the same run.
//
//   latency   a change in an area with live hints reported (--stdout) within
//             2 s: median of 20 changes (target); the peer: one change, 10 s cap
//   flood     20,000 creations with one edited existing file among them, on a
//             100k-entry tree: the overflow and the edit both reported within
//             60 s (target); the peer: the edit, 60 s cap
//   at rest   CPU (utime + stime from /proc) over REST_S s and RSS, hints on vs
//             off, interleaved (on, off, on, off: ROUNDS of each) so that the
//             machine's drift cancels, each daemon on its own fresh copy of the
//             clean record, from SETTLE_S after its start; per window: the
//             main thread's, the watcher thread's and the rest's (JIT, GC,
//             allocator) share, the load average, and how many file events
//             the file system saw meanwhile from other programs (fsevents.ts);
//             targets: no more CPU than the
//             trickle, < 1% of a core; RSS within 8 MiB; start-up time
//   scale     a 1M-entry database (900k rows generated directly beside the
//             real 100k, re-baselined after the changes above so that the
//             record matches the disk): the daemon at rest on it (hints on and
//             off interleaved, each on a fresh copy: a run must not inherit
//             what the one before it found), and the database work of one
//             trickle step (draw, stalest, read, write back: what grows with
//             the entries; the visit's lstat and hash do not) at 100k vs 1M
//
// The tree goes under TMPDIR (/tmp). Events in an area's ancestors cannot be
// silenced in the kernel (that would silence the area), so a busy /tmp above
// the area wakes the watcher where /etc's parent would not: TMPDIR=/var/tmp
// measures the quieter case.
//
// Knobs: BENCH_HINTS_FILES (100000), BENCH_HINTS_REST_SECONDS (60),
// BENCH_HINTS_ROUNDS (2), BENCH_HINTS_SCALE (1000000), BENCH_HINTS_KEEP=1.
import { Database } from "bun:sqlite";
import { loadavg } from "node:os";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { Store } from "../../src/scan/store.ts";
import { FsEvents } from "./fsevents.ts";

const FILES = Number(process.env.BENCH_HINTS_FILES ?? 100_000);
const REST_S = Number(process.env.BENCH_HINTS_REST_SECONDS ?? 60);
const ROUNDS = Number(process.env.BENCH_HINTS_ROUNDS ?? 2);
const SCALE = Number(process.env.BENCH_HINTS_SCALE ?? 1_000_000);
const BIN = join(import.meta.dir, "../../dist/integrityd");
const root = mkdtempSync(join(tmpdir(), "integrityd-bench-hints-"));
const area = join(root, "area");
const say = (s: string) => process.stdout.write(`${s}\n`);
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- the tree and its baseline ----------------------------------------------------
function buildTree(): void {
  const t0 = performance.now();
  for (let d = 0; d * 1000 < FILES; d++) {
    const dir = join(area, `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let i = d * 1000; i < Math.min(FILES, (d + 1) * 1000); i++) writeFileSync(join(dir, `f${i}`), `file ${i}\n`);
  }
  say(`tree: ${FILES} files in ${Math.ceil(FILES / 1000)} directories, made in ${f1((performance.now() - t0) / 1000)} s`);
}

function config(name: string, hints: string, db: string): string {
  const p = join(root, `${name}.conf`);
  writeFileSync(p, `email = none\ndatabase = ${db}\narea = ${area}\nhints = ${hints}\n`, { mode: 0o600 });
  return p;
}

// ---- a daemon, watched --------------------------------------------------------------
class Daemon {
  readonly proc;
  out = "";
  err = "";
  readonly spawned = performance.now();
  constructor(conf: string) {
    this.proc = Bun.spawn([BIN, "--config", conf, "--stdout"], { stdout: "pipe", stderr: "pipe" });
    void this.pump(this.proc.stdout, (s) => (this.out += s));
    void this.pump(this.proc.stderr, (s) => (this.err += s));
  }
  private async pump(s: ReadableStream<Uint8Array>, add: (t: string) => void) {
    const dec = new TextDecoder();
    for await (const c of s) add(dec.decode(c, { stream: true }));
  }
  /** ms until pred holds (null: not within capMs). */
  async until(pred: () => boolean, capMs: number): Promise<number | null> {
    const t0 = performance.now();
    while (!pred()) {
      if (performance.now() - t0 > capMs) return null;
      await Bun.sleep(5);
    }
    return performance.now() - t0;
  }
  /** utime + stime in clock ticks per thread, by thread id, with the thread's name. */
  threadTicks(): Map<string, { name: string; ticks: number }> {
    const out = new Map<string, { name: string; ticks: number }>();
    for (const t of readdirSync(`/proc/${this.proc.pid}/task`)) {
      try {
        const f = readFileSync(`/proc/${this.proc.pid}/task/${t}/stat`, "utf8");
        const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
        out.set(t, { name: f.slice(f.indexOf("(") + 1, f.lastIndexOf(")")), ticks: Number(rest[11]) + Number(rest[12]) });
      } catch {
        // a thread that ended
      }
    }
    return out;
  }
  rss(): { now: number; peak: number } {
    const s = readFileSync(`/proc/${this.proc.pid}/status`, "utf8");
    const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
    return { now: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
  }
  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    await this.proc.exited;
  }
}

const TICK = 100; // clock ticks per second (getconf CLK_TCK on Linux)

async function started(conf: string): Promise<{ d: Daemon; startMs: number }> {
  const d = new Daemon(conf);
  const ms = await d.until(() => /integrityd started/.test(d.err), 60_000);
  if (ms === null) throw new Error(`daemon did not start:\n${d.err}`);
  return { d, startMs: performance.now() - d.spawned };
}

interface Rest {
  cpu: number;
  /** the main thread's, the watcher thread's ("Worker") and every other thread's share */
  main: number;
  watcher: number;
  other: number;
  rss: number;
  peak: number;
  reports: number;
  load: [number, number];
  /** file events per second from other programs on the file system meanwhile (null: not measured) */
  fsRate: number | null;
}

/**
 * The window opens this long after "integrityd started": past the start-up's
 * one-off work (the trim of the executable's pages at 30 s, util/trim.ts; the
 * first staleness check at 60 s, which sums the entries once per cycle:
 * 0.3 s at 1M, behind.ts), none of which a daemon at rest for days repeats.
 */
const SETTLE_S = 70;

/** CPU share and RSS over REST_S seconds, from SETTLE_S after the start. */
async function atRest(d: Daemon, fs: FsEvents | null): Promise<Rest> {
  await Bun.sleep(SETTLE_S * 1000);
  const o0 = d.out.length;
  const a = d.threadTicks();
  const e0 = fs?.count ?? 0;
  const l0 = loadavg()[0];
  const t0 = performance.now();
  await Bun.sleep(REST_S * 1000);
  const s = (performance.now() - t0) / 1000;
  const b = d.threadTicks();
  const share = { main: 0, watcher: 0, other: 0 };
  for (const [tid, t] of b) {
    const used = ((t.ticks - (a.get(tid)?.ticks ?? 0)) / TICK / s) * 100;
    if (t.name === "integrityd") share.main += used;
    else if (t.name === "Worker") share.watcher += used;
    else share.other += used;
  }
  const r = d.rss();
  return {
    cpu: share.main + share.watcher + share.other, ...share, rss: r.now, peak: r.peak,
    reports: d.out.slice(o0).split("\n").filter((l) => /^[A-Z][a-z]+: /.test(l)).length,
    load: [l0, loadavg()[0]], fsRate: fs?.live ? ((fs.count - e0) / s) : null,
  };
}

const restLine = (what: string, r: Rest) =>
  `  ${what}: ${f2(r.cpu)}% of a core (main thread ${f2(r.main)}, watcher ${f2(r.watcher)}, other threads ${f2(r.other)}), RSS ${f1(r.rss)} MiB (peak ${f1(r.peak)}), ${r.reports} reports; load ${f2(r.load[0])} -> ${f2(r.load[1])}; other programs' file events ${r.fsRate === null ? "not measured" : `${f1(r.fsRate)}/s`}`;
const mean = (rs: Rest[], k: "cpu" | "rss" | "watcher") => rs.reduce((a, r) => a + r[k], 0) / rs.length;

/** A fresh copy of a record (its database file) in its own directory, and a config on it. */
function fresh(name: string, hints: string, from: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  copyFileSync(from, join(dir, "i.sqlite"));
  return config(name, hints, join(dir, "i.sqlite"));
}

/** ROUNDS windows of each, interleaved (on, off, on, off), each daemon on a fresh copy of `record`. */
async function interleaved(tag: string, record: string, fs: FsEvents | null, pid: { now: number }): Promise<{ on: Rest[]; off: Rest[]; startOn: number; startOff: number }> {
  const on: Rest[] = [];
  const off: Rest[] = [];
  let startOn = 0;
  let startOff = 0;
  for (let i = 0; i < ROUNDS; i++) {
    for (const hints of ["auto", "off"]) {
      const { d, startMs } = await started(fresh(`${tag}-${hints}-${i}`, hints, record));
      pid.now = d.proc.pid;
      const r = await atRest(d, fs);
      await d.stop();
      say(restLine(`${tag} hints ${hints === "auto" ? "on " : "off"} #${i + 1}`, r));
      (hints === "auto" ? on : off).push(r);
      if (hints === "auto") startOn = startMs;
      else startOff = startMs;
    }
  }
  return { on, off, startOn, startOff };
}

/** A change made by another process; ms until the daemon prints it (null: not within cap). */
async function change(d: Daemon, path: string, capMs: number): Promise<number | null> {
  const marker = `Changed: ${path}\n`;
  const before = d.out.split(marker).length;
  const t0 = performance.now();
  Bun.spawnSync(["sh", "-c", `echo x >> ${path}`]);
  const ms = await d.until(() => d.out.split(marker).length > before, capMs);
  return ms === null ? null : performance.now() - t0; // from before the write
}

/**
 * 20,000 creations with one edit among them. The overflow is waited for
 * only while the edit is not reported, and 5 s after: a watcher that kept up
 * with the flood has nothing to report.
 */
async function flood(d: Daemon, capMs: number): Promise<{ edit: number | null; overflow: number | null }> {
  const victim = join(area, "d0", "f7");
  const dir = join(area, "flood");
  const t0 = performance.now();
  Bun.spawnSync(["python3", "-c", `
import os
d=${JSON.stringify(dir)}
os.mkdir(d)
for i in range(10000): open(f'{d}/n{i}','w').close()
with open(${JSON.stringify(victim)},'a') as f: f.write('evil\\n')
for i in range(10000, 20000): open(f'{d}/n{i}','w').close()
`]);
  const made = performance.now() - t0;
  let edit: number | null = null;
  let overflow: number | null = null;
  const look = () => {
    if (edit === null && d.out.includes(`Changed: ${victim}\n`)) edit = performance.now() - t0;
    if (overflow === null && /Overflow: /.test(d.out)) overflow = performance.now() - t0;
    return edit !== null && overflow !== null;
  };
  await d.until(() => look() || edit !== null, capMs);
  await d.until(look, 5000);
  say(`  (20,000 creations and the edit made in ${f2(made / 1000)} s)`);
  return { edit, overflow };
}

// ---- scale: the database work of a trickle step -------------------------------------
function stepCost(dbPath: string, steps = 3000): number {
  const db = openDatabase(dbPath); // the daemon's pragmas (WAL, synchronous)
  const store = new Store(db);
  const cycle = Number((db.query("SELECT max(cycle) AS c FROM entries").get() as { c: number }).c) + 1;
  const probe = new BigInt64Array(1);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    crypto.getRandomValues(probe);
    db.transaction(() => {
      const p = store.draw(probe[0]);
      const s = store.stalest(cycle) ?? p;
      if (!s) return;
      const old = store.get(s);
      if (old) store.touch(s, null, Date.now(), cycle - 1); // (the visit's write; the cycle left as it was)
    })();
  }
  const us = ((performance.now() - t0) * 1000) / steps;
  db.close();
  return us;
}

function grow(dbPath: string, total: number): void {
  const db = new Database(dbPath);
  const have = (db.query("SELECT count(*) AS n FROM entries").get() as { n: number }).n;
  const cycle = Number((db.query("SELECT max(cycle) AS c FROM entries").get() as { c: number }).c);
  const now = Date.now();
  const ins = db.query(`INSERT INTO entries (path, parent, type, mode, uid, gid, size, ino, nlink, mtime, ctime, rdev, target, hash, error, checked, cycle)
    VALUES (?, ?, 'file', 420, 0, 0, 10, ?, 1, 0, 0, 0, NULL, 'sha256:00', NULL, ?, ?)`);
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < total - have; i++) {
      const parent = Buffer.from(`${area}/gen/g${Math.floor(i / 1000)}`);
      ins.run(Buffer.from(`${parent}/x${i}`), parent, 10_000_000 + i, now, cycle);
    }
  })();
  // the real tree not yet visited in this cycle and pending again, the area
  // itself not: the daemon at rest traverses and re-checks real files only
  // (the generated ones are not on disk; they count as visited this cycle)
  db.query("UPDATE entries SET cycle = ? WHERE path NOT LIKE ?").run(cycle - 1, `${area}/gen/%`);
  db.exec("DELETE FROM pending");
  db.query("INSERT INTO pending (path, rnd) SELECT path, random() FROM entries WHERE path LIKE ? AND path NOT LIKE ?").run(`${area}/d%`, `${area}/gen%`);
  db.close();
  say(`scale: ${total - have} rows generated in ${f1((performance.now() - t0) / 1000)} s (${total} entries)`);
}

// ---- the run -----------------------------------------------------------------------------
/**
 * The record brought up to date with the disk, checkpointed, copied to `to`.
 * --scan-once again until one finds nothing (exit 0): a pass that found a
 * change leaves the trickle at `speedup` for the next cycle, and a daemon
 * started on that record would not be at rest.
 */
function baseline(conf: string, db: string, to: string): void {
  const t0 = performance.now();
  const codes: (number | null)[] = [];
  do codes.push(Bun.spawnSync([BIN, "--config", conf, "--scan-once"], { stdout: "ignore", stderr: "ignore" }).exitCode);
  while (codes.at(-1) === 4 && codes.length < 3);
  say(`baseline (--scan-once): ${f1((performance.now() - t0) / 1000)} s, exit ${codes.join(", then ")}`);
  Bun.spawnSync(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"]);
  copyFileSync(db, to);
}

const pid = { now: 0 };
const fs = new FsEvents(root, () => pid.now);
try {
  say(`bench/hints: ${FILES} files, ${ROUNDS} x ${REST_S} s at rest per mode, scale ${SCALE} entries; kernel ${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}; load ${loadavg().map(f2).join(" ")}`);
  buildTree();
  const db = join(root, "db", "i.sqlite");
  initDatabase(db);
  const on = config("on", "auto", db);
  const off = config("off", "off", db);
  const clean = join(root, "clean.sqlite");
  baseline(on, db, clean);

  // at rest first, on the clean record (a change found speeds the trickle up
  // for a cycle: `speedup`), interleaved
  say(`at rest, ${REST_S} s windows, interleaved:`);
  const rest = await interleaved("rest", clean, fs, pid);

  // latency and the flood, on a fresh copy of the clean record
  const ours = await started(fresh("lat", "auto", clean));
  pid.now = ours.d.proc.pid;
  say(`hints: ${/change hints: .*/.exec(ours.d.err)?.[0] ?? "?"}`);
  const lat: number[] = [];
  for (let i = 0; i < 20; i++) {
    const d = i % Math.ceil(FILES / 1000);
    const ms = await change(ours.d, join(area, `d${d}`, `f${d * 1000 + i}`), 10_000);
    lat.push(ms ?? Infinity);
    await Bun.sleep(1100); // past the hold time of a re-checked path
  }
  const oursFlood = await flood(ours.d, 60_000);
  await ours.d.stop();
  // the peer's change and flood, on a record of the tree as it is now
  rmSync(join(area, "flood"), { recursive: true, force: true });
  const now = join(root, "now.sqlite");
  baseline(on, db, now);
  const peer = await started(fresh("peer", "off", now));
  pid.now = peer.d.proc.pid;
  const peerChange = await change(peer.d, join(area, "d3", "f3333"), 10_000);
  const peerFlood = await flood(peer.d, 60_000);
  await peer.d.stop();

  say("");
  say(`start-up to "integrityd started": hints on ${f2(rest.startOn / 1000)} s, off ${f2(rest.startOff / 1000)} s`);
  say(`latency, hints on: median ${f1(median(lat))} ms, max ${f1(Math.max(...lat))} ms over 20 changes (target median < 2000 ms); peer (trickle alone, filerate 1): ${peerChange === null ? "not reported within 10 s" : `${f1(peerChange)} ms`}`);
  say(`flood on ${FILES} files: edit reported after ${oursFlood.edit === null ? "more than 60 s" : `${f1(oursFlood.edit / 1000)} s`}, overflow ${oursFlood.overflow === null ? "none reported (the watcher kept up: no event was lost)" : `after ${f1(oursFlood.overflow / 1000)} s`} (target both < 60 s); peer: edit ${peerFlood.edit === null ? "not reported within 60 s" : `after ${f1(peerFlood.edit / 1000)} s`}`);
  say(`load average now: ${loadavg().map(f2).join(" ")} (the machine is shared)`);
  say(`at rest, mean of ${ROUNDS} x ${REST_S} s: CPU hints on ${f2(mean(rest.on, "cpu"))}% of a core (the watcher thread ${f2(mean(rest.on, "watcher"))}), off ${f2(mean(rest.off, "cpu"))}% (target: on <= off + noise, < 1%); RSS on ${f1(mean(rest.on, "rss"))} MiB, off ${f1(mean(rest.off, "rss"))} MiB; difference ${f1(mean(rest.on, "rss") - mean(rest.off, "rss"))} MiB (target within 8 MiB)`);

  // scale: the record of the tree as it is now (the flood gone, the changes
  // recorded), grown; the step cost on copies, each daemon on its own fresh copy
  rmSync(join(area, "flood"), { recursive: true, force: true });
  const db100k = join(root, "db100k.sqlite");
  baseline(on, db, db100k);
  const db1m = join(root, "db1m.sqlite");
  copyFileSync(db100k, db1m);
  grow(db1m, SCALE);
  const stepDb = (from: string) => {
    const p = join(root, "step.sqlite");
    copyFileSync(from, p);
    const us = stepCost(p);
    for (const x of ["", "-wal", "-shm"]) rmSync(p + x, { force: true });
    return us;
  };
  const cost100k = stepDb(db100k);
  const cost1m = stepDb(db1m);
  say(`scale: database work of one trickle step ${f1(cost100k)} µs at ${FILES} entries, ${f1(cost1m)} µs at ${SCALE} (ratio ${f2(cost1m / cost100k)}; flat = O(log n))`);
  say(`scale: at rest on ${SCALE} entries, ${REST_S} s windows, interleaved:`);
  const big = await interleaved("scale", db1m, fs, pid);
  say(`scale: daemon at rest on ${SCALE} entries, mean of ${ROUNDS}: hints on RSS ${f1(mean(big.on, "rss"))} MiB, CPU ${f2(mean(big.on, "cpu"))}%, start-up ${f2(big.startOn / 1000)} s; hints off RSS ${f1(mean(big.off, "rss"))} MiB, CPU ${f2(mean(big.off, "cpu"))}%; on ${FILES} entries: RSS ${f1(mean(rest.on, "rss"))} MiB`);
} finally {
  fs.close();
  if (process.env.BENCH_HINTS_KEEP !== "1") rmSync(root, { recursive: true, force: true });
  else say(`kept ${root}`);
}
