// The scanner's side of the package verdicts: for the reports of one visit
// (compare.ts), look up the manifests naming the path (store.ts; a dpkg
// temporary name PATH.dpkg-new stands for PATH), what dpkg's records say now
// (its status file, cached while unchanged; the package's md5sums), decide
// (verdict.ts) and rewrite the reports:
//   verified         no file report: the package's summary line (queued when
//                    apt installed it) stands for it; the history row stays.
//                    Permissions or owner that differ from the package keep
//                    the report, with the difference said.
//   md5-only, conffile-edited, unowned   the report as it was, the verdict
//                    in details.package and (but unowned) a line in the text
//   mismatch         urgent, with the expected and found hashes
// plus one urgent report per dpkg record that disagrees with a verified
// manifest. Regular files (SHA-256), symlinks (SHA-256 of the target) and
// directories (type, mode and owner) are judged; other types and visits with
// an error keep their reports. Deletions: quietDeletion says which are the
// package manager's own (a temporary name; a path a verified upgrade dropped).
import type { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Attrs } from "../scan/attrs.ts";
import type { FileReport } from "../scan/compare.ts";
import { infoNames, parseMd5sums, parseStatus, type InstalledPackage } from "./dpkg.ts";
import { digestFile, readRegular } from "./files.ts";
import { hasManifest, manifestFor } from "./store.ts";
import { annotate, recordText } from "./summary.ts";
import { attrsDifference, classify, owningPackage, type Found, type ManifestFile } from "./verdict.ts";

/** Files above this are not read a second time for their MD5 (the verdict says so). */
const MAX_REREAD = 256 << 20;

export class PackageJudge {
  private status: { key: string; byName: Map<string, InstalledPackage> } | null = null;
  private sums = new Map<string, { key: string; map: Map<string, string> }>();

  constructor(private readonly db: Database, private readonly dpkgAdmin = "/var/lib/dpkg") {}

  private fileKey(p: string): string | null {
    try {
      const st = statSync(p, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      return null;
    }
  }

  private installed(): Map<string, InstalledPackage> {
    const path = join(this.dpkgAdmin, "status");
    const key = this.fileKey(path) ?? "";
    if (this.status?.key !== key) {
      const text = readRegular(path);
      this.status = { key, byName: new Map((text ? parseStatus(text.toString("latin1")) : []).map((p) => [p.package, p])) };
    }
    return this.status.byName;
  }

  private md5sum(p: InstalledPackage, path: string): string | null {
    for (const n of infoNames(p.package, p.arch)) {
      const file = join(this.dpkgAdmin, "info", `${n}.md5sums`);
      const key = this.fileKey(file);
      if (key === null) continue;
      let c = this.sums.get(file);
      if (c?.key !== key) {
        const t = readRegular(file);
        c = { key, map: t ? parseMd5sums(t.toString("latin1")) : new Map() };
        if (this.sums.size > 64) this.sums.clear();
        this.sums.set(file, c);
      }
      return c.map.get(path) ?? null;
    }
    return null;
  }

  /** The manifest rows of a path; a dpkg temporary name (PATH.dpkg-new, .dpkg-tmp) stands for PATH. */
  private rowsFor(path: Uint8Array): ManifestFile[] {
    const rows = manifestFor(this.db, path);
    if (rows.length > 0) return rows;
    const text = Buffer.from(path).toString("latin1");
    const m = /^(.*)\.dpkg-(new|tmp)$/s.exec(text);
    return m ? manifestFor(this.db, Buffer.from(m[1], "latin1")) : [];
  }

  /** The reports of one visit, judged. */
  judge(path: Uint8Array, attrs: Attrs, error: string | null, reports: FileReport[]): FileReport[] {
    const target = reports.find((r) => r.kind === "new" || r.kind === "changed");
    if (!target) return reports;
    const rows = this.rowsFor(path);
    if (rows.length === 0) {
      target.details.package = "unowned";
      return reports;
    }
    if (error !== null || (attrs.type !== "file" && attrs.type !== "symlink" && attrs.type !== "dir")) return reports;
    const installed = this.installed();
    const owner = owningPackage(rows, (pkg) => installed.get(pkg)?.version ?? null)!;
    const ours = rows.filter((r) => r.package === owner);
    const pkg = installed.get(owner) ?? null;
    const own = { mode: attrs.mode, uid: attrs.uid, gid: attrs.gid };
    const without = reports.filter((r) => r !== target);
    if (attrs.type === "dir") {
      // a directory has no content: a verified version naming it as a directory, with this mode and owner, is all
      const dir = ours.find((r) => r.evidence === "verified" && (r.mode & 0o170000) === 0o040000);
      if (dir && attrsDifference(dir, own) === null) return without;
      return reports;
    }
    const found = this.found(path, attrs, ours);
    if (!found) {
      target.details.package = "mismatch";
      target.details.package_name = owner;
      target.urgent = true;
      target.text += `\n  package ${owner}: content could not be read again to compare with its package`;
      return reports;
    }
    found.attrs = own;
    const pathText = Buffer.from(path).toString("latin1");
    const c = classify(ours, found, {
      installed: pkg?.version ?? null,
      md5sum: pkg && attrs.type === "file" ? this.md5sum(pkg, pathText) : null,
      statusConffile: pkg?.conffiles.get(pathText) ?? null,
    });
    const out: FileReport[] = [];
    for (const r of reports) {
      if (r !== target) out.push(r);
      else if (c.verdict !== "verified" || c.attrsDiffer !== null) {
        const note = c.verdict === "verified" ? `  content verified (${owner} ${c.version}); ${c.attrsDiffer}` : annotate(c, found.sha256);
        out.push({
          ...r, text: note ? `${r.text}\n${note}` : r.text, urgent: c.verdict === "mismatch" || undefined,
          details: { ...r.details, package: c.verdict, package_name: c.package, package_version: c.version, ...(c.verdict === "mismatch" ? { expected: c.expected, found: `sha256:${found.sha256}` } : {}) },
        });
      }
    }
    for (const rec of c.records) {
      out.push({
        kind: "package", subject: target.subject, text: recordText(target.subject, c, rec), urgent: true,
        details: { path: target.subject, package: "mismatch", package_name: c.package, package_version: c.version, record: rec.record, expected: `md5:${rec.expected}`, found: `md5:${rec.found}` },
      });
    }
    return out;
  }

  /** The digests a verdict compares: the scanner's SHA-256 when it is one, else the file read again; a symlink's target. */
  private found(path: Uint8Array, attrs: Attrs, rows: readonly ManifestFile[]): Found | null {
    if (attrs.type === "symlink") {
      return attrs.target ? { sha256: new Bun.CryptoHasher("sha256").update(attrs.target).digest("hex"), md5: "" } : null;
    }
    const sha = attrs.hash?.startsWith("sha256:") ? attrs.hash.slice(7) : null;
    // the MD5 is needed only when no verified version has this SHA-256 (dpkg's list is the evidence left)
    if (sha !== null && rows.some((r) => r.evidence === "verified" && r.sha256 === sha)) return { sha256: sha, md5: "" };
    const d = attrs.size <= BigInt(MAX_REREAD) ? digestFile(path) : null;
    return d && (sha === null || d.sha256 === sha) ? { sha256: d.sha256, md5: d.md5 } : null;
  }

  /**
   * Whether the deletion of a recorded path is the package manager's own
   * doing, and so not reported on its own: a dpkg temporary name of an owned
   * path, or a path the installed version of its package no longer has while
   * that version's manifest is verified (removed by a verified upgrade).
   */
  quietDeletion(path: Uint8Array): boolean {
    const text = Buffer.from(path).toString("latin1");
    const tmp = /^(.*)\.dpkg-(new|tmp)$/s.exec(text);
    if (tmp) return manifestFor(this.db, Buffer.from(tmp[1], "latin1")).length > 0;
    const rows = manifestFor(this.db, path);
    if (rows.length === 0) return false;
    const installed = this.installed();
    const owner = owningPackage(rows, (p) => installed.get(p)?.version ?? null)!;
    const pkg = installed.get(owner);
    if (!pkg) return false;
    if (rows.some((r) => r.package === owner && r.version === pkg.version)) return false;
    return rows.some((r) => r.package === owner && hasManifest(this.db, owner, pkg.version, r.arch, "verified"));
  }
}

/** The judge for a configuration: none with `packages = off` or where dpkg is not; an existing one is kept. */
export function packageJudge(db: Database, config: { packages: "auto" | "off" }, current: PackageJudge | null = null, dpkgAdmin = "/var/lib/dpkg"): PackageJudge | null {
  if (config.packages === "off" || !existsSync(join(dpkgAdmin, "status"))) return null;
  return current ?? new PackageJudge(db, dpkgAdmin);
}
