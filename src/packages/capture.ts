// Capturing the evidence of one .deb the package manager is about to unpack:
// its manifest (manifest.ts), whether its SHA-256 is listed in a verified
// index (archive.ts), stored with that evidence (store.ts) and reported as
// one summary event per package version, in one transaction.
import type { Database } from "bun:sqlite";
import { enqueue } from "../db/events.ts";
import { debKey, type VerifiedIndex } from "./archive.ts";
import type { Manifest } from "./manifest.ts";
import { putManifest } from "./store.ts";
import { packageDetails, packageSummary, type Captured } from "./summary.ts";

/** Whether a manifest's .deb is in the verified index, and the evidence to store. */
export function judgeDeb(m: Manifest, index: VerifiedIndex): { verified: boolean; key: string; origin: string; reason: string } {
  const listed = index.debs.get(debKey(m.package, m.version, m.arch)) ?? [];
  const hit = listed.find((d) => d.sha256 === m.deb);
  if (hit) return { verified: true, key: hit.key, origin: hit.origin, reason: "" };
  const reason = listed.length > 0 ? "the .deb's SHA-256 differs from its signed index"
    : index.problems.length > 0 ? `not in a verified index; ${index.problems[0]}`
    : "not listed in any signed index";
  return { verified: false, key: "", origin: "", reason };
}

/** Store a manifest with its evidence and queue its summary (one transaction). */
export function storeCapture(db: Database, m: Manifest, previous: string | null, index: VerifiedIndex, now: number): Captured {
  const j = judgeDeb(m, index);
  const c: Captured = { package: m.package, version: m.version, previous, files: m.files, verified: j.verified, key: j.key, origin: j.origin, reason: j.reason };
  db.transaction(() => {
    putManifest(db, {
      package: m.package, version: m.version, arch: m.arch, evidence: j.verified ? "verified" : "unverified",
      deb: Buffer.from(m.deb, "hex"), key: j.key, origin: j.verified ? j.origin : j.reason, files: m.files,
    }, m.entries, now);
    enqueue(db, { channel: "file", kind: "package", subject: m.package, text: packageSummary(c), details: packageDetails(c, m.deb), time: now });
  }).immediate();
  return c;
}
