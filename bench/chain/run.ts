// bench/chain: the cost of tamper evidence (src/chain), whole processes.
//   1. append: N events queued with the chain on and off (bench/chain/append.ts),
//      µs per event; the chain's share is the difference;
//   2. verify: `dist/integrityd --verify-chain` over the chained database
//      (N entries and more), wall, CPU and peak RSS;
//      peer: `openssl dgst -sha256 -hmac KEY` over the same bytes the verifier
//      MACs (each entry's seq ‖ time ‖ kind ‖ hash ‖ previous MAC, written to a file);
//   3. scan: `--scan-once` over an unchanged tree (the trickle's path: visit,
//      compare, touch) with the chain on and off: CPU should not move, since an
//      unchanged file writes no chain entry; the baseline (one record entry
//      per file) is shown too.
// Knobs: BENCH_CHAIN_EVENTS (1,000,000), BENCH_CHAIN_FILES (20,000), BENCH_CHAIN_KEEP=1.
import { Database } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const N = Number(process.env.BENCH_CHAIN_EVENTS ?? 1_000_000);
const FILES = Number(process.env.BENCH_CHAIN_FILES ?? 20_000);
const OURS = join(import.meta.dir, "../../dist/integrityd");
const root = mkdtempSync(join(tmpdir(), "integrityd-bench-chain-"));
const say = (s: string) => process.stdout.write(`${s}\n`);

interface Timed { wall: number; user: number; sys: number; rssMiB: number; stdout: string; code: number }

/** A whole process under GNU time: wall, CPU and peak RSS. */
function timed(argv: string[], stdin?: string): Timed {
  const tf = join(root, "time.out");
  const r = Bun.spawnSync(["/usr/bin/time", "-o", tf, "-f", "%e %U %S %M", ...argv], { stdin: stdin ? new Blob([stdin]) : "ignore", stdout: "pipe", stderr: "pipe" });
  const [wall, user, sys, kb] = existsSync(tf) ? readFileSync(tf, "utf8").trim().split("\n").pop()!.split(" ").map(Number) : [NaN, NaN, NaN, NaN];
  if (r.exitCode !== 0 && r.exitCode !== 1) say(`  (${argv[0]} exited ${r.exitCode}: ${r.stderr.toString().slice(0, 300)})`);
  return { wall, user, sys, rssMiB: kb / 1024, stdout: r.stdout.toString(), code: r.exitCode ?? -1 };
}
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

say(`bench/chain: ${N.toLocaleString("en")} events, ${FILES.toLocaleString("en")} files, in ${root}`);

// ---- 1. append -------------------------------------------------------------------
const child = (mode: string) => {
  const t = timed([process.execPath, join(import.meta.dir, "append.ts"), String(N), mode, root]);
  return { ...t, res: JSON.parse(t.stdout.trim().split("\n").pop()!) as { usPerEvent: number; cpuUsPerEvent: number; key: string | null; path: string } };
};
const off = child("off");
const on = child("on");
say("\n1. append (events queued through db/events.ts, 100 per transaction)");
say(`  chain off: ${f2(off.res.usPerEvent)} µs/event wall, ${f2(off.res.cpuUsPerEvent)} CPU (process ${f1(off.wall)} s, peak RSS ${f1(off.rssMiB)} MiB)`);
say(`  chain on:  ${f2(on.res.usPerEvent)} µs/event wall, ${f2(on.res.cpuUsPerEvent)} CPU (process ${f1(on.wall)} s, peak RSS ${f1(on.rssMiB)} MiB)`);
say(`  the chain's share: ${f2(on.res.usPerEvent - off.res.usPerEvent)} µs/event wall, ${f2(on.res.cpuUsPerEvent - off.res.cpuUsPerEvent)} CPU (target <= 20)`);

// ---- 2. verify -------------------------------------------------------------------
const db = new Database(on.res.path, { readonly: true });
const entries = (db.query("SELECT count(*) AS n FROM chain").get() as { n: number }).n;
const bytesFile = join(root, "mac-input.bin");
const fd = openSync(bytesFile, "w");
let prev = Buffer.alloc(32);
let total = 0;
for (const r of db.query("SELECT seq, time, kind, hash, mac FROM chain ORDER BY seq").iterate() as IterableIterator<{ seq: number; time: number; kind: string; hash: Uint8Array; mac: Uint8Array }>) {
  const h = Buffer.allocUnsafe(17 + r.kind.length);
  h.writeBigUInt64BE(BigInt(r.seq), 0);
  h.writeBigUInt64BE(BigInt(r.time), 8);
  h[16] = r.kind.length;
  h.write(r.kind, 17, "ascii");
  const b = Buffer.concat([h, r.hash, prev]);
  writeSync(fd, b);
  total += b.length;
  prev = Buffer.from(r.mac);
}
closeSync(fd);
db.close();
const ver = timed([OURS, "--verify-chain", "--key", "-", "--database", on.res.path], `${on.res.key}\n`);
const keyHex = on.res.key!.replace(/-/g, "");
const peer = timed(["openssl", "dgst", "-sha256", "-hmac", keyHex, bytesFile]);
say(`\n2. verify ${entries.toLocaleString("en")} entries (${on.res.path.split("/").pop()}, every events row re-hashed too)`);
say(`  integrityd --verify-chain: ${f2(ver.wall)} s (user ${f2(ver.user)}, sys ${f2(ver.sys)}), peak RSS ${f1(ver.rssMiB)} MiB, ${ver.code === 0 ? "intact" : `exit ${ver.code}`} (target < 10 s)`);
say(`  openssl dgst -sha256 -hmac over the same ${(total / 1048576).toFixed(1)} MiB (one MAC, not ${entries.toLocaleString("en")}): ${f2(peer.wall)} s (user ${f2(peer.user)}), peak RSS ${f1(peer.rssMiB)} MiB`);
say(`  per entry: integrityd ${f2((ver.wall * 1e6) / entries)} µs, openssl's byte rate ${f2((peer.wall * 1e6) / entries)} µs`);

// ---- 3. scan ---------------------------------------------------------------------
const tree = join(root, "tree");
for (let i = 0; i < FILES; i++) {
  const d = join(tree, `d${Math.floor(i / 500)}`);
  if (i % 500 === 0) mkdirSync(d, { recursive: true });
  writeFileSync(join(d, `f${i}`), `file ${i}\n`.repeat(1 + (i % 50)));
}
const scanRun = (name: string, chain: boolean) => {
  const dbp = join(root, `${name}.sqlite`);
  const conf = join(root, `${name}.conf`);
  writeFileSync(conf, `email = none\ndatabase = ${dbp}\narea = ${tree}\n`, { mode: 0o600 });
  Bun.spawnSync([OURS, "-c", conf, "--init-db"], { stdout: "ignore" });
  if (!chain) renameSync(`${dbp}.chainkey`, `${dbp}.chainkey.away`); // tamper evidence off
  const base = timed([OURS, "-c", conf, "--scan-once"]);
  const again = timed([OURS, "-c", conf, "--scan-once"]);
  const d = new Database(dbp, { readonly: true });
  const n = (d.query("SELECT count(*) AS n FROM chain").get() as { n: number }).n;
  d.close();
  return { base, again, n };
};
const sOff = scanRun("scan-off", false);
const sOn = scanRun("scan-on", true);
say(`\n3. --scan-once over ${FILES.toLocaleString("en")} files (CPU = user + sys)`);
say(`  baseline, chain off: ${f2(sOff.base.user + sOff.base.sys)} s CPU, ${f2(sOff.base.wall)} s wall, peak RSS ${f1(sOff.base.rssMiB)} MiB`);
say(`  baseline, chain on:  ${f2(sOn.base.user + sOn.base.sys)} s CPU, ${f2(sOn.base.wall)} s wall, peak RSS ${f1(sOn.base.rssMiB)} MiB (a record entry per file)`);
say(`  unchanged, chain off: ${f2(sOff.again.user + sOff.again.sys)} s CPU, ${f2(sOff.again.wall)} s wall`);
say(`  unchanged, chain on:  ${f2(sOn.again.user + sOn.again.sys)} s CPU, ${f2(sOn.again.wall)} s wall`);
say(`  chain entries after both passes: ${sOn.n} (of which the unchanged pass added 1: its start entry)`);

if (process.env.BENCH_CHAIN_KEEP === "1") say(`kept ${root}`);
else rmSync(root, { recursive: true, force: true });
