// Package manifests: how fast a .deb's content is read into a manifest, and
// what manifests cost in the database.
//
// 1. Manifest building, whole processes (start-up included, peak RSS): this
//    module's builder (dpkg-deb --fsys-tarfile on a pipe, the tar parsed in
//    process, SHA-256 and MD5 of every member) over the largest .debs under
//    10 MB in /var/cache/apt/archives (or BENCH_PACKAGES_DIR) up to
//    BENCH_PACKAGES_MB (100) MB of .deb, against the peer `dpkg-deb --fsys-tarfile DEB |
//    sha256sum` per .deb, in the same run. Target: >= 40 MB/s of content.
// 2. The apt hook on the same .debs, as apt runs it (this host's sources, lists
//    and keyrings; the whole index of each source is read once per run).
// 3. Database bytes per 100,000 files: the real paths of this host's dpkg
//    lists (/var/lib/dpkg/info/*.list, one package version per list) stored
//    as verified manifests with random hashes. Target: <= ~30 MB.
import { Database } from "bun:sqlite";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { putManifest, type ManifestEntry } from "../../src/packages/store.ts";

const ROOT = resolve(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "integrityd-bench-packages-"));

interface Run { wall: number; rssMiB: number; user: number; sys: number; code: number; stdout: string; stderr: string }

function timed(cmd: string[], stdin?: string): Run {
  const tf = join(dir, "time.out");
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf, ...cmd], { stdout: "pipe", stderr: "pipe", stdin: stdin === undefined ? "ignore" : new Blob([stdin]) });
  const [wall, rss, user, sys] = readFileSync(tf, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return { wall, rssMiB: rss / 1024, user, sys, code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function corpus(): string[] {
  const from = process.env.BENCH_PACKAGES_DIR ?? "/var/cache/apt/archives";
  const limit = Number(process.env.BENCH_PACKAGES_MB ?? 100) * 1e6;
  let debs: { path: string; size: number }[] = [];
  try {
    debs = readdirSync(from).filter((n) => n.endsWith(".deb")).map((n) => ({ path: join(from, n), size: statSync(join(from, n)).size }));
  } catch {
    debs = [];
  }
  debs.sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  const out: string[] = [];
  let total = 0;
  // typical packages, not three huge documentation archives: each under 10 MB
  for (const d of debs) {
    if (d.size > 10e6 || total + d.size > limit) continue;
    out.push(d.path);
    total += d.size;
  }
  return out;
}

function manifestSpeed(): void {
  const debs = corpus();
  if (debs.length === 0) {
    console.log("manifest building: no .debs in /var/cache/apt/archives (set BENCH_PACKAGES_DIR); skipped");
    return;
  }
  const debMB = debs.reduce((s, d) => s + statSync(d).size, 0) / 1e6;
  // warm the page cache for both sides alike
  for (const d of debs) readFileSync(d);
  const child = (serial: boolean) => {
    const r = timed(["/usr/bin/env", `BENCH_SERIAL=${serial ? 1 : 0}`, process.execPath, join(import.meta.dir, "manifest-child.ts"), ...debs]);
    if (r.code !== 0) throw new Error(`manifest child failed: ${r.stderr}`);
    return r;
  };
  const serial = child(true);
  const ours = child(false);
  const got = JSON.parse(ours.stdout.trim().split("\n").pop()!) as { bytes: number; files: number; members: number };
  const peer = timed(["/bin/bash", "-c", 'for d in "$@"; do dpkg-deb --fsys-tarfile "$d" | sha256sum >/dev/null || exit 1; done', "peer", ...debs]);
  if (peer.code !== 0) throw new Error(`peer failed: ${peer.stderr}`);
  const jobs = String(Math.max(1, Math.min(4, availableParallelism())));
  const peerPar = timed(["/usr/bin/xargs", "-0", "-P", jobs, "-n", "1", "/bin/bash", "-c", 'dpkg-deb --fsys-tarfile "$0" | sha256sum >/dev/null'], debs.map((d) => `${d}\0`).join(""));
  if (peerPar.code !== 0) throw new Error(`parallel peer failed: ${peerPar.stderr}`);
  const mb = got.bytes / 1e6;
  console.log(`manifest building: ${debs.length} .debs, ${debMB.toFixed(1)} MB of .deb, ${mb.toFixed(1)} MB of content in ${got.files} files (${got.members} members)`);
  console.log(`  integrityd builder, one .deb at a time: ${serial.wall.toFixed(2)} s (user ${serial.user}, sys ${serial.sys}), ${(mb / serial.wall).toFixed(1)} MB/s, peak RSS ${serial.rssMiB.toFixed(0)} MiB; ratio to the peer ${(peer.wall / serial.wall).toFixed(2)}`);
  console.log(`  integrityd builder as the hook runs it (several at a time): ${ours.wall.toFixed(2)} s (user ${ours.user}, sys ${ours.sys}), ${(mb / ours.wall).toFixed(1)} MB/s of content, peak RSS ${ours.rssMiB.toFixed(0)} MiB (target >= 40 MB/s)`);
  console.log(`  peer dpkg-deb --fsys-tarfile | sha256sum, one at a time: ${peer.wall.toFixed(2)} s (user ${peer.user}, sys ${peer.sys}), ${(mb / peer.wall).toFixed(1)} MB/s`);
  console.log(`  peer, ${jobs} at a time (xargs -P): ${peerPar.wall.toFixed(2)} s, ${(mb / peerPar.wall).toFixed(1)} MB/s; ratio to the hook's way ${(peerPar.wall / ours.wall).toFixed(2)}`);
}

/** The apt hook as apt runs it (protocol 3, this host's apt configuration) on the corpus: wall per run, start-up included. */
function hookRun(): void {
  const debs = corpus();
  const bin = join(ROOT, "dist", "integrityd");
  if (debs.length === 0 || !Bun.which("apt-config")) return;
  try {
    statSync(bin);
  } catch {
    console.log("apt hook: dist/integrityd not built (make build); skipped");
    return;
  }
  const db = join(dir, "hook.sqlite");
  initDatabase(db);
  const conf = join(dir, "hook.conf");
  writeFileSync(conf, `database = ${db}\nemail = none\n`, { mode: 0o600 });
  const dump = Bun.spawnSync(["apt-config", "dump"], { stdout: "pipe" }).stdout.toString();
  const items = dump.split("\n").map((l) => /^(\S+) "(.*)";$/.exec(l)).filter((m) => m !== null).map((m) => `${m![1]}=${encodeURIComponent(m![2])}`);
  const lines = debs.map((d) => { const n = d.split("/").pop()!.split("_"); return `${n[0]} - - none < ${decodeURIComponent(n[1])} ${n[2].replace(/\.deb$/, "")} none ${d}`; });
  writeFileSync(join(dir, "hook.in"), `VERSION 3\n${items.join("\n")}\n\n${lines.join("\n")}\n`);
  const tf = join(dir, "time.out");
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf, bin, "--apt-hook", "--config", conf], { stdin: Bun.file(join(dir, "hook.in")), stdout: "pipe", stderr: "pipe" });
  const [wall, rss] = readFileSync(tf, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  const d = new Database(db, { readonly: true });
  const by = d.query("SELECT evidence, count(*) AS n FROM pkg_versions GROUP BY evidence").all() as { evidence: string; n: number }[];
  d.close();
  console.log(`apt hook (dist/integrityd --apt-hook, this host's sources and lists): ${debs.length} .debs in ${wall.toFixed(2)} s, peak RSS ${(rss / 1024).toFixed(0)} MiB; ${by.map((x) => `${x.n} ${x.evidence}`).join(", ") || "nothing stored"}${r.stderr.length ? `; said: ${r.stderr.toString().trim().split("\n")[0]}` : ""}`);
}

function databaseSize(): void {
  const info = "/var/lib/dpkg/info";
  let lists: string[] = [];
  try {
    lists = readdirSync(info).filter((n) => n.endsWith(".list"));
  } catch {
    lists = [];
  }
  if (lists.length === 0) {
    console.log("database size: no dpkg lists on this host; skipped");
    return;
  }
  const path = join(dir, "db.sqlite");
  initDatabase(path);
  const empty = statSync(path).size;
  const db = openDatabase(path);
  let files = 0;
  const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const started = performance.now();
  for (const l of lists) {
    const paths = readFileSync(join(info, l), "latin1").split("\n").filter((p) => p.startsWith("/") && p !== "/.");
    const entries: ManifestEntry[] = paths.map((p) => ({ path: Buffer.from(p, "latin1"), sha256: rnd(32), md5: rnd(16), mode: 0o100644, uid: 0, gid: 0, conffile: false }));
    db.transaction(() => putManifest(db, { package: l.replace(/\.list$/, ""), version: "1.0-1", arch: "amd64", evidence: "verified", deb: rnd(32), key: "0".repeat(40), origin: "http://deb.debian.org/debian bookworm", files: entries.length }, entries, Date.now()))();
    files += entries.length;
  }
  const ms = performance.now() - started;
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const bytes = statSync(path).size - empty;
  console.log(`database: ${lists.length} package versions, ${files} paths stored in ${(ms / 1000).toFixed(2)} s; ${(bytes / 1e6).toFixed(1)} MB, ${((bytes / files) * 1e5 / 1e6).toFixed(1)} MB per 100,000 files (target <= ~30 MB)`);
}

try {
  console.log(`bench/packages (${ROOT})`);
  manifestSpeed();
  hookRun();
  databaseSize();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
