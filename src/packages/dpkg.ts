// dpkg's own records, parsed: the status file, PKG.md5sums and PKG.conffiles
// (in /var/lib/dpkg/info, or the same members of a .deb's control tarball).
// Pure. These are root-writable text: they describe what dpkg believes, and
// the verdicts compare them with our manifest; they never prove content.
import { eachStanza, fieldLines } from "./deb822.ts";

export interface InstalledPackage {
  package: string;
  version: string;
  arch: string;
  multiarch: string;
  /** conffile path → MD5 hex dpkg recorded at install ("newconffile" when not yet known) */
  conffiles: Map<string, string>;
}

/** The packages dpkg holds as installed (Status: install ok installed, or any "ok" state with files on disk). */
export function parseStatus(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  eachStanza(text, (s) => {
    const status = (s.get("status") ?? "").split(/\s+/);
    const state = status[2];
    if (!s.get("package") || !s.get("version")) return;
    if (!["installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending", "half-installed"].includes(state)) return;
    const conffiles = new Map<string, string>();
    for (const line of fieldLines(s.get("conffiles"))) {
      const m = /^(\/.*?)\s+([0-9a-f]{32}|newconffile)(\s+obsolete|\s+remove-on-upgrade)*$/.exec(line);
      if (m) conffiles.set(m[1], m[2]);
    }
    out.push({ package: s.get("package")!, version: s.get("version")!, arch: s.get("architecture") ?? "", multiarch: s.get("multi-arch") ?? "", conffiles });
  });
  return out;
}

/** PKG.md5sums: "<md5>  <path without the leading slash>" → Map of "/path" → md5 hex. Bytes as latin1. */
export function parseMd5sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]{32}) [ *]?(.+)$/.exec(line);
    if (!m) continue;
    const p = m[2].startsWith("/") ? m[2] : `/${m[2]}`;
    out.set(p, m[1].toLowerCase());
  }
  return out;
}

/** PKG.conffiles: one absolute path a line ("remove-on-upgrade " prefixes allowed). */
export function parseConffiles(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/^remove-on-upgrade\s+/, "");
    if (line.startsWith("/")) out.add(line);
  }
  return out;
}

/** The name dpkg gives a package's info files: "pkg" or "pkg:arch" for Multi-Arch: same. */
export function infoNames(pkg: string, arch: string): string[] {
  return arch ? [`${pkg}:${arch}`, pkg] : [pkg];
}
