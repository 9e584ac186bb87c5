// The report texts of the package channel. Pure.
//   packageSummary   one line per package version the package manager installed
//   annotate         what a file event's verdict adds to its report text
//   recordText       dpkg's records disagreeing with a verified manifest
import { escapeString } from "../util/escape.ts";
import type { Classification } from "./verdict.ts";

export interface Captured {
  package: string;
  version: string;
  /** the version dpkg had before (null: not installed) */
  previous: string | null;
  files: number;
  verified: boolean;
  key: string;
  origin: string;
  /** why not verified */
  reason: string;
}

const shortKey = (k: string) => (k.length > 16 ? k.slice(-16) : k);

export function packageSummary(c: Captured): string {
  const name = escapeString(c.package);
  const v = escapeString(c.version);
  const what = c.previous === null ? `${name} ${v} installed` : c.previous === c.version ? `${name} ${v} reinstalled` : `${name} ${escapeString(c.previous)} → ${v}`;
  const n = `${c.files} ${c.files === 1 ? "file" : "files"}`;
  if (c.verified) return `${what}: ${n}, content verified against ${escapeString(c.origin)} (key ${shortKey(c.key)})`;
  return `${what}: ${n}, NOT verified (${escapeString(c.reason)}): its files are checked against dpkg's MD5 list only`;
}

export function packageDetails(c: Captured, deb: string): Record<string, unknown> {
  return {
    package: c.verified ? "verified" : "md5-only", package_name: c.package, package_version: c.version,
    previous_version: c.previous, files: c.files, key: c.key, origin: c.origin, deb_sha256: deb, ...(c.verified ? {} : { reason: c.reason }),
  };
}

/** The lines a verdict adds under a file report (none for unowned and verified). */
export function annotate(c: Classification, foundSha256: string): string {
  const who = `${escapeString(c.package ?? "")} ${escapeString(c.version ?? "")}`;
  switch (c.verdict) {
    case "mismatch":
      return `  PACKAGE MISMATCH: owned by ${who}; content matches no verified version\n  expected: ${c.expected ?? "(no hash known)"}\n  found:    sha256:${foundSha256}`;
    case "conffile-edited":
      return `  conffile of ${who}, edited (differs from its package)`;
    case "md5-only":
      return `  package ${who}: matches dpkg's MD5 list only (no verified .deb; not verified)`;
    default:
      return "";
  }
}

export function recordText(shownPath: string, c: Classification, r: Classification["records"][number]): string {
  const where = r.record === "md5sums" ? "dpkg's md5sums line" : "dpkg's status conffile hash";
  return `dpkg records rewritten: ${where} for ${shownPath} (${escapeString(c.package ?? "")}) disagrees with the verified manifest\n  manifest: md5:${r.expected}\n  dpkg:     md5:${r.found}`;
}
