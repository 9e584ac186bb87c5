// The packages module's figures for --status: manifests by evidence, paths
// named, and the daemon's last backfill (meta 'packages.backfill').
import type { Database } from "bun:sqlite";
import { manifestCounts } from "./store.ts";

export const META_BACKFILL = "packages.backfill";

export interface PackagesStatus {
  /** package versions with a manifest, by evidence */
  verified: number;
  unverified: number;
  md5only: number;
  paths: number;
  /** the last backfill: when, and how many installed packages had which evidence */
  lastBackfill: { time: number; verified: number; md5only: number; none: number } | null;
}

export function packagesStatus(db: Database): PackagesStatus {
  const c = manifestCounts(db);
  const row = db.query("SELECT value FROM meta WHERE key = ?").get(META_BACKFILL) as { value: string } | null;
  let last: PackagesStatus["lastBackfill"] = null;
  try {
    const j = row ? JSON.parse(row.value) : null;
    if (j && typeof j.time === "number") last = { time: j.time, verified: Number(j.verified) || 0, md5only: Number(j.md5only) || 0, none: Number(j.none) || 0 };
  } catch {
    last = null;
  }
  return { ...c, lastBackfill: last };
}
