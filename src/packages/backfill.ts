// Backfill: manifests for packages installed before the hook was in place
// (`integrityd --verify-packages`, and the daemon's slow task). Per installed
// package, the best evidence still on the host:
//   verified  its .deb is still in Dir::Cache::Archives and its SHA-256 is
//             listed by an index whose Release gpgv verifies (archive.ts)
//   md5-only  dpkg's PKG.md5sums (and the status file's conffile hashes):
//             ownership and MD5s, said plainly to be nothing more
//   none      neither
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { debKey, hostAptDirs, verifiedIndex, type AptDirs, type VerifiedIndex } from "./archive.ts";
import { judgeDeb } from "./capture.ts";
import { infoNames, parseMd5sums, parseStatus, type InstalledPackage } from "./dpkg.ts";
import { readRegular } from "./files.ts";
import { scratch } from "./gpg.ts";
import { buildManifest } from "./manifest.ts";
import { hasManifest, putManifest, type ManifestEntry } from "./store.ts";

export type BackfillResult = "verified" | "md5-only" | "none";

export function installedPackages(d: AptDirs): InstalledPackage[] {
  const st = readRegular(join(d.dpkgAdmin, "status"));
  return st ? parseStatus(st.toString("latin1")) : [];
}

/** The file name apt gives a package version in its archives (':' of an epoch as %3a). */
export function archiveName(p: InstalledPackage): string {
  return `${p.package}_${p.version.replace(/:/g, "%3a")}_${p.arch}.deb`;
}

function md5Manifest(d: AptDirs, p: InstalledPackage): ManifestEntry[] | null {
  let sums: Map<string, string> | null = null;
  for (const n of infoNames(p.package, p.arch)) {
    const t = readRegular(join(d.dpkgAdmin, "info", `${n}.md5sums`));
    if (t) {
      sums = parseMd5sums(t.toString("latin1"));
      break;
    }
  }
  if (!sums && p.conffiles.size === 0) return null;
  const out = new Map<string, ManifestEntry>();
  for (const [path, md5] of sums ?? []) out.set(path, { path: Buffer.from(path, "latin1"), sha256: null, md5: Buffer.from(md5, "hex"), mode: 0o100000, uid: 0, gid: 0, conffile: false });
  for (const [path, md5] of p.conffiles) {
    out.set(path, { path: Buffer.from(path, "latin1"), sha256: null, md5: /^[0-9a-f]{32}$/.test(md5) ? Buffer.from(md5, "hex") : null, mode: 0o100000, uid: 0, gid: 0, conffile: true });
  }
  return [...out.values()];
}

/** The best evidence for one installed package, stored; what it was. */
export async function backfillOne(db: Database, d: AptDirs, p: InstalledPackage, index: VerifiedIndex, now: number): Promise<BackfillResult> {
  if (hasManifest(db, p.package, p.version, p.arch, "verified")) return "verified";
  const deb = join(d.archives, archiveName(p));
  if (existsSync(deb)) {
    try {
      const m = await buildManifest(deb);
      const j = judgeDeb(m, index);
      if (j.verified && m.package === p.package && m.version === p.version) {
        db.transaction(() => putManifest(db, { package: m.package, version: m.version, arch: m.arch, evidence: "verified", deb: Buffer.from(m.deb, "hex"), key: j.key, origin: j.origin, files: m.files }, m.entries, now)).immediate();
        return "verified";
      }
    } catch {
      // an unreadable .deb: the weaker evidence below
    }
  }
  if (hasManifest(db, p.package, p.version, p.arch, "md5-only")) return "md5-only";
  const entries = md5Manifest(d, p);
  if (!entries) return "none";
  db.transaction(() => putManifest(db, { package: p.package, version: p.version, arch: p.arch, evidence: "md5-only", deb: null, key: "", origin: "dpkg md5sums", files: entries.length }, entries, now)).immediate();
  return "md5-only";
}

export interface BackfillCounts {
  verified: number;
  "md5-only": number;
  none: number;
  problems: string[];
}

/** Every installed package, one after the other; between two, `between` (the daemon's pacing). */
export async function backfillAll(db: Database, d: AptDirs, between: () => Promise<boolean>, now: () => number): Promise<BackfillCounts> {
  const installed = installedPackages(d);
  const tmp = scratch();
  let index: VerifiedIndex;
  try {
    index = verifiedIndex(d, tmp.dir, new Set(installed.map((p) => debKey(p.package, p.version, p.arch))));
  } finally {
    tmp.cleanup();
  }
  const counts: BackfillCounts = { verified: 0, "md5-only": 0, none: 0, problems: index.problems };
  for (const p of installed) {
    counts[await backfillOne(db, d, p, index, now())]++;
    if (!(await between())) break;
  }
  return counts;
}

export function countsText(c: BackfillCounts): string {
  const lines = [`packages: ${c.verified} verified, ${c["md5-only"]} md5-only (dpkg's MD5 list; not verified), ${c.none} without evidence`];
  for (const p of c.problems) lines.push(`  source not usable: ${p}`);
  return `${lines.join("\n")}\n`;
}

/** `integrityd --verify-packages`. */
export async function runVerifyPackages(db: Database, io: { out: (s: string) => void; err: (s: string) => void }, dirs: AptDirs = hostAptDirs()): Promise<number> {
  const counts = await backfillAll(db, dirs, async () => true, Date.now);
  io.out(countsText(counts));
  return 0;
}
