// bench/scan: the trickle scanner against Debian's AIDE and openssl, on a
// generated tree (default 50,000 files, ~1.9 GiB: most 1-64 KiB, some up to
// 1 MiB, a few up to 8 MiB). Run by `make bench`; prints the numbers and ratios.
// Knobs: BENCH_SCAN_FILES, BENCH_SCAN_BIG_MIB, BENCH_SCAN_TRICKLE_SECONDS, BENCH_SCAN_RUNS, BENCH_SCAN_KEEP=1.
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync,
} from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { initDatabase } from "../../src/db/db.ts";
import { hashFile, statEntry } from "../../src/scan/reader.ts";
import { Pacer } from "../../src/scan/pace.ts";
import { pathFrom } from "../../src/scan/paths.ts";

const N = Number(process.env.BENCH_SCAN_FILES ?? 50_000);
const BIG_MIB = Number(process.env.BENCH_SCAN_BIG_MIB ?? 1024);
const TRICKLE_S = Number(process.env.BENCH_SCAN_TRICKLE_SECONDS ?? 60);
const RUNS = Math.max(1, Number(process.env.BENCH_SCAN_RUNS ?? 3));
const BUN = process.execPath;
const OURS = join(import.meta.dir, "../../dist/integrityd");
const HERE = import.meta.dir;

const root = mkdtempSync(join(tmpdir(), "integrityd-bench-scan-"));
const tree = join(root, "tree");
const say = (s: string) => process.stdout.write(`${s}\n`);

// ---- the tree -------------------------------------------------------------------
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000;
}
const logUniform = (lo: number, hi: number) => Math.floor(Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo))));
const POOL = Buffer.alloc(16 << 20);
for (let o = 0; o < POOL.length; o += 65536) crypto.getRandomValues(POOL.subarray(o, o + 65536));

function content(i: number, size: number): Buffer {
  const off = Math.floor(rnd() * (POOL.length - size - 64));
  const b = Buffer.from(POOL.subarray(off, off + size));
  b.write(`file ${i} `, 0, "latin1"); // unique per file
  return b;
}

function buildTree(): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const d = join(tree, `d${Math.floor(i / 4096)}`, `e${Math.floor(i / 64) % 64}`);
    if (i % 64 === 0) mkdirSync(d, { recursive: true });
    const r = rnd();
    const size = r < 0.955 ? logUniform(1024, 65536) : r < 0.997 ? logUniform(65536, 1 << 20) : logUniform(1 << 20, 8 << 20);
    const p = join(d, `f${i}${i % 10 === 0 ? ".conf" : ""}`);
    writeFileSync(p, content(i, size));
    if (i % 500 === 0) chmodSync(p, 0o755);
    files.push(p);
    bytes += size;
    if (i % 400 === 0) symlinkSync(`../e0/f${i}`, join(d, `l${i}`));
  }
  return { files, bytes };
}

// ---- measuring --------------------------------------------------------------------
interface Run { wall: number; rssMiB: number; user: number; sys: number; code: number; stderr: string }

function timed(cmd: string[]): Run {
  const tf = join(root, "time.out");
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf, ...cmd], { stdout: "ignore", stderr: "pipe" });
  const [wall, rss, user, sys] = readFileSync(tf, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return { wall, rssMiB: rss / 1024, user, sys, code: r.exitCode ?? -1, stderr: r.stderr.toString() };
}

function ensureAide(): boolean {
  if (Bun.which("aide")) return true;
  say("installing aide (apt-get install -y aide)...");
  let r = Bun.spawnSync(["apt-get", "install", "-y", "aide"], { stdout: "ignore", stderr: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.exitCode !== 0) {
    Bun.spawnSync(["apt-get", "update"], { stdout: "ignore", stderr: "ignore" });
    r = Bun.spawnSync(["apt-get", "install", "-y", "aide"], { stdout: "ignore", stderr: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  }
  return r.exitCode === 0 && !!Bun.which("aide");
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

async function main(): Promise<void> {
  if (!existsSync(OURS)) throw new Error(`${OURS} missing: run 'make build' (make bench does)`);
  say(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, bun ${Bun.version}; tree under ${root}`);
  let t = performance.now();
  const { files, bytes } = buildTree();
  say(`tree: ${N} files, ${f2(bytes / 2 ** 30)} GiB, ${Math.ceil(N / 400)} symlinks, built in ${f1((performance.now() - t) / 1000)} s (page cache warm for both tools)`);

  const db = join(root, "integrityd.sqlite");
  initDatabase(db);
  const conf = join(root, "integrityd.conf");
  writeFileSync(conf, `database = ${db}\narea = ${tree}\nhash = sha256\n`, { mode: 0o600 });
  // the shipped binary (make bench builds it), as an admin runs it
  const ours = () => timed([OURS, "--scan-once", "--config", conf]);

  const haveAide = ensureAide();
  const aideConf = join(root, "aide.conf");
  writeFileSync(
    aideConf,
    [
      `database_in=file:${root}/aide.db`, `database_out=file:${root}/aide.db.new`, "gzip_dbout=no", "report_url=stdout",
      // the attributes integrityd records: type, permissions incl. suid, inode, links, owner, size, mtime, ctime, link target, sha256
      "Ours = ftype+p+i+n+u+g+s+m+c+l+sha256", `${tree} Ours`, "",
    ].join("\n"),
  );
  const aide = (mode: string) => timed(["aide", `--config=${aideConf}`, "--workers=2", mode]);

  // Each pass runs RUNS times, the tools interleaved, and the best run of each
  // counts (the machine is shared: single runs moved by up to 40%). Our
  // database is put back before each run so that every run does the same work.
  const saveDb = (to: string) => { for (const x of ["-wal", "-shm"]) rmSync(db + x, { force: true }); copyFileSync(db, to); };
  const restoreDb = (from: string) => { for (const x of ["-wal", "-shm"]) rmSync(db + x, { force: true }); copyFileSync(from, db); };
  const bestRun = (runs: Run[]) => runs.reduce((a, b) => (b.wall < a.wall ? b : a));
  const walls = (runs: Run[]) => runs.map((r) => f2(r.wall)).join(" ");

  // RUNS interleaved runs of a pass: AIDE, then ours from the saved database
  const pass = (aideMode: string, dbFrom: string) => {
    const a: Run[] = [];
    const o: Run[] = [];
    for (let r = 0; r < RUNS; r++) {
      if (haveAide) a.push(aide(aideMode));
      restoreDb(dbFrom);
      o.push(ours());
    }
    return { a, o };
  };

  // baseline
  saveDb(`${root}/fresh.sqlite`);
  const { a: aInits, o: oInits } = pass("--init", `${root}/fresh.sqlite`);
  if (haveAide && existsSync(`${root}/aide.db.new`)) renameSync(`${root}/aide.db.new`, `${root}/aide.db`);
  saveDb(`${root}/baseline.sqlite`);
  // changes: 200 rewritten, 50 chmod, 50 deleted, 50 new
  for (let i = 0; i < 200; i++) writeFileSync(files[(i * 97) % N], content(i, 4096));
  for (let i = 0; i < 50; i++) chmodSync(files[(i * 131 + 7) % N], 0o600);
  for (let i = 0; i < 50; i++) try { unlinkSync(files[(i * 193 + 11) % N]); } catch { /* picked twice */ }
  for (let i = 0; i < 50; i++) writeFileSync(join(tree, "d0", "e0", `new${i}`), content(i, 2048));
  const { a: aChecks, o: oChecks } = pass("--check", `${root}/baseline.sqlite`);
  const [oInit, oCheck] = [bestRun(oInits), bestRun(oChecks)];
  const [aInit, aCheck] = haveAide ? [bestRun(aInits), bestRun(aChecks)] : [null, null];

  say("");
  say(`best of ${RUNS} runs each, interleaved (all runs' wall seconds in the last column)`);
  say("");
  say("| pass | integrityd wall s | AIDE (--workers=2) wall s | ratio (target <= 0.5) | integrityd peak RSS MiB | AIDE peak RSS MiB | runs: integrityd / AIDE |");
  say("|---|---|---|---|---|---|---|");
  for (const [name, o, a, os, as] of [["baseline (--init)", oInit, aInit, oInits, aInits], ["check", oCheck, aCheck, oChecks, aChecks]] as const) {
    say(`| ${name} | ${f2(o.wall)} (user ${f1(o.user)} sys ${f1(o.sys)}) | ${a ? `${f2(a.wall)} (user ${f1(a.user)} sys ${f1(a.sys)})` : "n/a"} | ${a ? f2(o.wall / a.wall) : "n/a"} | ${f1(o.rssMiB)} | ${a ? f1(a.rssMiB) : "n/a"} | ${walls(os)} / ${walls(as)} |`);
  }
  say(`integrityd --scan-once exit ${oInit.code} / ${oCheck.code}${oInit.stderr || oCheck.stderr ? `; stderr: ${(oInit.stderr + oCheck.stderr).trim()}` : ""}`);
  if (aCheck) say(`aide --check exit ${aCheck.code}`);

  // large-file hashing vs openssl
  const big = join(root, `big-${BIG_MIB}M`);
  {
    const chunk = POOL.subarray(0, 16 << 20);
    const fd = Bun.file(big).writer();
    for (let i = 0; i < BIG_MIB / 16; i++) fd.write(chunk);
    await fd.end();
  }
  const best = async (f: () => Promise<void> | void) => {
    let m = Infinity;
    for (let i = 0; i < 2; i++) {
      const s = performance.now();
      await f();
      m = Math.min(m, performance.now() - s);
    }
    return m / 1000;
  };
  const sslS = await best(() => void Bun.spawnSync(["openssl", "dgst", "-sha256", big], { stdout: "ignore" }));
  const st = statEntry(pathFrom(big));
  if (!st.ok) throw new Error(st.message);
  const full = new Pacer({ filerate: 1, byterate: 1, smallfiles: 0, speedup: 1 }, { unlimited: true });
  const oursS = await best(async () => {
    const r = await hashFile(pathFrom(big), st.attrs, st.dev, { algo: "sha256", small: true, chunkSize: () => full.chunkSize(), pace: async () => {}, stopped: () => false });
    if (r.kind !== "ok") throw new Error(`hash: ${r.kind}`);
  });
  say("");
  say(`large file (${BIG_MIB} MiB, cached) sha256: integrityd ${f1(BIG_MIB / oursS)} MiB/s, openssl dgst ${f1(BIG_MIB / sslS)} MiB/s, ratio ${f2(sslS / oursS)} (target >= 0.6)`);

  // trickle accuracy at byterate 1 MiB/s
  {
    const size = 8 << 20;
    const p = join(root, "trickle");
    writeFileSync(p, POOL.subarray(0, size));
    const s2 = statEntry(pathFrom(p));
    if (!s2.ok) throw new Error(s2.message);
    const pacer = new Pacer({ filerate: 1, byterate: 1 << 20, smallfiles: 131072, speedup: 20 });
    const t0 = performance.now();
    const r = await hashFile(pathFrom(p), s2.attrs, s2.dev, {
      algo: "sha256", small: false, chunkSize: () => pacer.chunkSize(),
      pace: async (n) => { const w = pacer.bytesWait(performance.now(), n); if (w > 0) await Bun.sleep(w); },
      stopped: () => false,
    });
    const secs = (performance.now() - t0) / 1000;
    if (r.kind !== "ok") throw new Error(`trickle hash: ${r.kind}`);
    const rate = size / secs / 2 ** 20;
    say(`trickle accuracy: 8 MiB at byterate 1 MiB/s took ${f2(secs)} s = ${f2(rate)} MiB/s, error ${f1(Math.abs(rate - 1) * 100)}% (target within 5%)`);
  }

  // trickling the tree at default rates (after a clean pass: speed factor 1)
  const clean = ours(); // (a clean pass: the speed factor is back at 1)
  t = performance.now();
  const child = Bun.spawn([BUN, join(HERE, "trickle.ts"), conf, String(TRICKLE_S)], { stdout: "ignore", stderr: "pipe" });
  const ticks = () => {
    const f = readFileSync(`/proc/${child.pid}/stat`, "utf8");
    const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime (after the comm field)
  };
  const hz = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
  await Bun.sleep(5000); // start-up excluded
  const c0 = ticks();
  const w0 = performance.now();
  await Bun.sleep(Math.max(1, TRICKLE_S - 7) * 1000);
  const c1 = ticks();
  const w1 = performance.now();
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  await child.exited;
  const info = (await new Response(child.stderr).text()).trim();
  const share = ((c1 - c0) / hz) / ((w1 - w0) / 1000) * 100;
  say(`trickle at default rates (filerate 1, byterate 256 KiB/s; clean pass before: exit ${clean.code}): CPU ${f2(share)}% of a core over ${f1((w1 - w0) / 1000)} s (target < 1%), peak RSS ${f1(hwm)} MiB (target < 64 MiB); ${info}`);

  if (process.env.BENCH_SCAN_KEEP !== "1") rmSync(root, { recursive: true, force: true });
}

await main();
