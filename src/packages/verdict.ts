// What a changed or new file means, given the manifests that name its path
// and what dpkg's records say now. Pure: no database, no clock, no I/O.
//
//   verified         its SHA-256 equals the entry of a verified package version
//                    (permissions or owner that differ from that entry are
//                    said beside it: attrsDiffer; the caller keeps the report)
//   conffile-edited  a conffile whose content is not its package's: an admin edit
//   mismatch (HIGH)  owned, and its content matches no verified version of its
//                    package (or, with no verified manifest, not dpkg's MD5 either)
//   md5-only         no verified manifest for the installed version; the content
//                    matches dpkg's md5sums line, which is all the evidence there is
//   unowned          no manifest names the path
//
// Beside the verdict, dpkg's records are checked against a verified manifest of
// the installed version: a md5sums line or a status conffile hash that
// disagrees with it, and is no verified version's either (dpkg in the middle
// of an upgrade), is HIGH on its own (someone rewrote dpkg's records).
export type Evidence = "verified" | "unverified" | "md5-only";
export type PackageVerdict = "verified" | "md5-only" | "conffile-edited" | "mismatch" | "unowned";

/** One manifest row for the path (store.ts), hashes as lower-case hex. */
export interface ManifestFile {
  package: string;
  version: string;
  arch: string;
  evidence: Evidence;
  key: string;
  origin: string;
  sha256: string | null;
  md5: string | null;
  /** S_IFMT | permissions; md5-only rows: 0o100000 (dpkg's lists hold no modes) */
  mode: number;
  uid: number;
  gid: number;
  conffile: boolean;
}

/** dpkg's view of the owning package now (null fields: not known). */
export interface DpkgFacts {
  /** the version dpkg's status says is installed, null when not installed */
  installed: string | null;
  /** the path's line in PKG.md5sums (hex), null when none */
  md5sum: string | null;
  /** the path's conffile hash in the status file, null when none */
  statusConffile: string | null;
}

/** What was found on disk: the content's digests (hex; a symlink's: of its target), and its permissions and owner. */
export interface Found {
  sha256: string;
  md5: string;
  attrs?: { mode: number; uid: number; gid: number };
}

export interface RecordDisagreement {
  record: "md5sums" | "status";
  expected: string;
  found: string;
}

export interface Classification {
  verdict: PackageVerdict;
  package: string | null;
  version: string | null;
  /** mismatch: "sha256:HEX" (a verified manifest) or "md5:HEX" (dpkg's list) expected */
  expected: string | null;
  /** the verified manifest's key and origin, when verified */
  key: string;
  origin: string;
  /** dpkg's records disagreeing with the verified manifest of the installed version (each HIGH) */
  records: RecordDisagreement[];
  /** verified content whose permissions or owner differ from the package's (dpkg-statoverride, chmod): in words, else null */
  attrsDiffer: string | null;
}

const perm = (m: number) => (m & 0o7777).toString(8).padStart(4, "0");

/** How found permissions/owner differ from a manifest row's, in words; null when they agree. */
export function attrsDifference(row: ManifestFile, a: Found["attrs"]): string | null {
  if (!a) return null;
  const out: string[] = [];
  if ((row.mode & 0o7777) !== (a.mode & 0o7777)) out.push(`mode ${perm(a.mode)} (package: ${perm(row.mode)})`);
  if (row.uid !== a.uid || row.gid !== a.gid) out.push(`owner ${a.uid}:${a.gid} (package: ${row.uid}:${row.gid})`);
  return out.length ? out.join(", ") : null;
}

/** The package a path belongs to: the one dpkg has installed among the owners, else the first. */
export function owningPackage(rows: readonly ManifestFile[], installed: (pkg: string) => string | null): string | null {
  if (rows.length === 0) return null;
  return rows.find((r) => installed(r.package) !== null)?.package ?? rows[0].package;
}

export function classify(rows: readonly ManifestFile[], found: Found, dpkg: DpkgFacts): Classification {
  const base = { expected: null, key: "", origin: "", records: [] as RecordDisagreement[], attrsDiffer: null };
  if (rows.length === 0) return { ...base, verdict: "unowned", package: null, version: null };
  const pkg = rows[0].package; // the caller passes the owning package's rows
  const ours = rows.filter((r) => r.package === pkg);
  const verifiedInstalled = ours.find((r) => r.evidence === "verified" && r.version === dpkg.installed) ?? null;
  const records: RecordDisagreement[] = [];
  // a hash that is some verified version's is not a rewrite: dpkg between two
  // versions of an upgrade holds one version's records beside the other's status
  const verifiedMd5 = new Set(ours.filter((r) => r.evidence === "verified" && r.md5).map((r) => r.md5));
  if (verifiedInstalled?.md5 && dpkg.md5sum !== null && !verifiedMd5.has(dpkg.md5sum)) {
    records.push({ record: "md5sums", expected: verifiedInstalled.md5, found: dpkg.md5sum });
  }
  if (verifiedInstalled?.md5 && verifiedInstalled.conffile && dpkg.statusConffile !== null && /^[0-9a-f]{32}$/.test(dpkg.statusConffile) && !verifiedMd5.has(dpkg.statusConffile)) {
    records.push({ record: "status", expected: verifiedInstalled.md5, found: dpkg.statusConffile });
  }
  const match = ours.find((r) => r.evidence === "verified" && r.sha256 === found.sha256);
  if (match) {
    return { ...base, records, verdict: "verified", package: pkg, version: match.version, key: match.key, origin: match.origin, attrsDiffer: attrsDifference(match, found.attrs) };
  }
  const version = dpkg.installed ?? ours[0].version;
  if (ours.some((r) => r.conffile)) return { ...base, records, verdict: "conffile-edited", package: pkg, version };
  if (verifiedInstalled) return { ...base, records, verdict: "mismatch", package: pkg, version, expected: verifiedInstalled.sha256 && `sha256:${verifiedInstalled.sha256}` };
  // no verified manifest of the installed version: dpkg's MD5 list is the evidence left
  const md5 = dpkg.md5sum ?? ours.find((r) => r.evidence === "md5-only" && r.version === version)?.md5 ?? null;
  if (md5 !== null && md5 === found.md5) return { ...base, records, verdict: "md5-only", package: pkg, version };
  const anyVerified = ours.find((r) => r.evidence === "verified" && r.sha256 !== null);
  const expected = md5 !== null ? `md5:${md5}` : anyVerified ? `sha256:${anyVerified.sha256}` : null;
  return { ...base, records, verdict: "mismatch", package: pkg, version, expected };
}
