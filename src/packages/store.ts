// The package tables (src/db/schema.sql, "packages"): manifests written once
// per package version and kind of evidence, and read back per path for the
// verdicts. Paths are stored once (pkg_paths); hashes as raw bytes. Callers
// hold the transaction.
import type { Database } from "bun:sqlite";
import type { Evidence, ManifestFile } from "./verdict.ts";

export interface VersionRow {
  package: string;
  version: string;
  arch: string;
  evidence: Evidence;
  deb: Uint8Array | null;
  key: string;
  origin: string;
  files: number;
}

/** Whether a manifest of this package version with this evidence is already stored. */
export function hasManifest(db: Database, pkg: string, version: string, arch: string, evidence: Evidence): boolean {
  return db.query("SELECT 1 FROM pkg_versions WHERE package = ? AND version = ? AND arch = ? AND evidence = ?").get(pkg, version, arch, evidence) !== null;
}

export interface ManifestEntry {
  path: Uint8Array;
  sha256: Uint8Array | null;
  md5: Uint8Array | null;
  mode: number;
  uid: number;
  gid: number;
  conffile: boolean;
}

/**
 * Store a manifest (inside the caller's transaction). An existing one of the
 * same package version and evidence is kept as it is: returns false then.
 */
export function putManifest(db: Database, v: VersionRow, entries: Iterable<ManifestEntry>, now: number): boolean {
  const res = db.query(
    "INSERT OR IGNORE INTO pkg_versions (package, version, arch, evidence, deb, key, origin, files, captured) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(v.package, v.version, v.arch, v.evidence, v.deb, v.key, v.origin, v.files, now);
  if (res.changes === 0) return false;
  const vid = Number(res.lastInsertRowid);
  const addPath = db.query("INSERT OR IGNORE INTO pkg_paths (path) VALUES (?)");
  const pathId = db.query("SELECT id FROM pkg_paths WHERE path = ?");
  const addFile = db.query("INSERT OR REPLACE INTO pkg_files (path, version, sha256, md5, mode, uid, gid, conffile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const e of entries) {
    const r = addPath.run(e.path);
    const pid = r.changes > 0 ? Number(r.lastInsertRowid) : (pathId.get(e.path) as { id: number }).id;
    addFile.run(pid, vid, e.sha256, e.md5, e.mode, e.uid, e.gid, e.conffile ? 1 : 0);
  }
  return true;
}

/** Every manifest row for a path, across packages, versions and evidence. */
export function manifestFor(db: Database, path: Uint8Array): ManifestFile[] {
  const rows = db.query(
    `SELECT v.package, v.version, v.arch, v.evidence, v.key, v.origin, f.sha256, f.md5, f.mode, f.uid, f.gid, f.conffile
       FROM pkg_paths p JOIN pkg_files f ON f.path = p.id JOIN pkg_versions v ON v.id = f.version
      WHERE p.path = ?`,
  ).all(path) as { package: string; version: string; arch: string; evidence: Evidence; key: string; origin: string; sha256: Uint8Array | null; md5: Uint8Array | null; mode: number; uid: number; gid: number; conffile: number }[];
  return rows.map((r) => ({
    package: r.package, version: r.version, arch: r.arch, evidence: r.evidence, key: r.key, origin: r.origin,
    sha256: r.sha256 ? Buffer.from(r.sha256).toString("hex") : null, md5: r.md5 ? Buffer.from(r.md5).toString("hex") : null,
    mode: r.mode, uid: r.uid, gid: r.gid, conffile: r.conffile === 1,
  }));
}

/** Counts for --status: package versions per evidence, and paths. */
export function manifestCounts(db: Database): { verified: number; unverified: number; md5only: number; paths: number } {
  const by = new Map((db.query("SELECT evidence, count(*) AS n FROM pkg_versions GROUP BY evidence").all() as { evidence: string; n: number }[]).map((r) => [r.evidence, r.n]));
  const paths = (db.query("SELECT count(*) AS n FROM pkg_paths").get() as { n: number }).n;
  return { verified: by.get("verified") ?? 0, unverified: by.get("unverified") ?? 0, md5only: by.get("md5-only") ?? 0, paths };
}
