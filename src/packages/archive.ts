// The archive's chain of trust as apt left it on this host: for every source
// entry, its InRelease (or Release + Release.gpg) in Dir::State::Lists,
// verified by gpgv with that entry's keyring; the Packages indexes whose
// SHA-256 that Release lists; and from them, the SHA-256 of every .deb they
// list. The result answers "is this .deb (package, version, arch, SHA-256)
// in a signed index, signed by which key?".
//
// Where apt keeps indexes compressed (Acquire::GzipIndexes: .lz4, .gz, .xz,
// .zst), apt's own `apt-helper cat-file` decompresses them; the SHA-256
// compared is always that of the uncompressed index, as listed in Release.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isRegular, readRegular } from "./files.ts";
import { keyringFiles, verifySigned } from "./gpg.ts";
import { parseRelease } from "./release.ts";
import { entryName, parseSourcesDeb822, parseSourcesList, releasePrefix, type SourceEntry } from "./sources.ts";

/** Where apt keeps things (from its configuration: the hook's dump or `apt-config dump`). */
export interface AptDirs {
  lists: string;
  sourceList: string;
  sourceParts: string;
  trusted: string;
  trustedParts: string;
  archives: string;
  dpkgAdmin: string;
  archs: string[];
}

/** apt's configuration items → the directories (defaults: Debian's). Keys are matched case-insensitively. */
export function aptDirs(items: ReadonlyMap<string, string>): AptDirs {
  const get = (k: string) => items.get(k.toLowerCase());
  const under = (base: string, v: string | undefined, dflt: string) => {
    const x = v ?? dflt;
    return x.startsWith("/") ? x : join(base, x);
  };
  const root = get("Dir") ?? "/";
  const state = under(root, get("Dir::State"), "var/lib/apt/");
  const etc = under(root, get("Dir::Etc"), "etc/apt/");
  const cache = under(root, get("Dir::Cache"), "var/cache/apt/");
  const archs = [get("APT::Architecture") ?? "amd64"];
  for (const [k, v] of items) if (k.startsWith("apt::architectures::") && !archs.includes(v)) archs.push(v);
  return {
    lists: under(state, get("Dir::State::Lists"), "lists/"),
    sourceList: under(etc, get("Dir::Etc::SourceList"), "sources.list"),
    sourceParts: under(etc, get("Dir::Etc::SourceParts"), "sources.list.d"),
    trusted: under(etc, get("Dir::Etc::Trusted"), "trusted.gpg"),
    trustedParts: under(etc, get("Dir::Etc::TrustedParts"), "trusted.gpg.d"),
    archives: under(cache, get("Dir::Cache::Archives"), "archives/"),
    dpkgAdmin: get("Dir::State::status")?.replace(/\/status$/, "") ?? "/var/lib/dpkg",
    archs,
  };
}

/** `apt-config dump` lines (Key "value";) → items, lower-cased keys. */
export function parseAptConfigDump(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(\S+) "(.*)";$/.exec(line);
    if (m) out.set(m[1].toLowerCase(), m[2].replace(/\\"/g, '"'));
  }
  return out;
}

/** The host's apt configuration, asked of apt itself. */
export function hostAptDirs(): AptDirs {
  // APT_CONFIG (apt's own variable: another main configuration file) passes through
  const env: Record<string, string> = { PATH: "/usr/bin:/bin", LC_ALL: "C", ...(process.env.APT_CONFIG ? { APT_CONFIG: process.env.APT_CONFIG } : {}) };
  const r = Bun.spawnSync(["apt-config", "dump"], { stdout: "pipe", stderr: "ignore", env });
  return aptDirs(r.exitCode === 0 ? parseAptConfigDump(r.stdout.toString()) : new Map());
}

/** Every deb source entry of sources.list and sources.list.d. */
export function sourceEntries(d: AptDirs): SourceEntry[] {
  const out: SourceEntry[] = [];
  const one = readRegular(d.sourceList, 1 << 24);
  if (one) out.push(...parseSourcesList(one.toString("utf8"), d.sourceList));
  let names: string[] = [];
  try {
    names = readdirSync(d.sourceParts).sort();
  } catch {
    names = [];
  }
  for (const n of names) {
    const p = join(d.sourceParts, n);
    if (!/^[A-Za-z0-9_.-]+\.(list|sources)$/.test(n)) continue;
    const t = readRegular(p, 1 << 24);
    if (!t) continue;
    out.push(...(n.endsWith(".list") ? parseSourcesList(t.toString("utf8"), p) : parseSourcesDeb822(t.toString("utf8"), p)));
  }
  return out;
}

/** The keyrings apt checks an entry with: its signed-by, else trusted.gpg and trusted.gpg.d. */
export function entryKeyrings(e: SourceEntry, d: AptDirs): { paths: string[]; inline: string | null } {
  if (e.keyFiles.length > 0 || e.inlineKey) return { paths: e.keyFiles, inline: e.inlineKey };
  let parts: string[] = [];
  try {
    parts = readdirSync(d.trustedParts).filter((n) => /\.(gpg|asc)$/.test(n)).sort().map((n) => join(d.trustedParts, n));
  } catch {
    parts = [];
  }
  return { paths: [d.trusted, ...parts], inline: null };
}

export interface DebEvidence {
  sha256: string;
  origin: string; // "URI SUITE"
  key: string; // signing key fingerprint
}

export interface VerifiedIndex {
  /** "package\0version\0arch" → the .debs its signed indexes list (usually one) */
  debs: Map<string, DebEvidence[]>;
  /** per source entry that could not be used: why */
  problems: string[];
}

export const debKey = (pkg: string, version: string, arch: string) => `${pkg}\0${version}\0${arch}`;

const COMPRESSIONS = ["", ".lz4", ".gz", ".xz", ".zst", ".bz2"];

function readIndex(path: string): Buffer | null {
  if (!path.match(/\.(lz4|gz|xz|zst|bz2)$/)) return readRegular(path);
  if (!isRegular(path)) return null;
  const r = Bun.spawnSync(["/usr/lib/apt/apt-helper", "cat-file", path], { stdout: "pipe", stderr: "ignore", env: { PATH: "/usr/bin:/bin" } });
  return r.exitCode === 0 ? Buffer.from(r.stdout) : null;
}

/**
 * The four fields of each stanza of a Packages index that matter here, found
 * with native byte searches (an index of the whole archive is ~50-100 MB: a
 * general stanza parser is several times slower). Field names as the archive
 * writes them (case-sensitive); a stanza without all four, or with a
 * malformed SHA256, is skipped.
 */
export function packageDebs(buf: Buffer, visit: (pkg: string, version: string, arch: string, sha256: string) => void): void {
  const field = (name: Buffer, start: number, end: number): string => {
    // the field at the stanza's start, or after a newline inside it
    let at: number;
    if (buf.subarray(start, start + name.length - 1).equals(name.subarray(1))) at = start + name.length - 1;
    else {
      const i = buf.indexOf(name, start);
      if (i < 0 || i >= end) return "";
      at = i + name.length;
    }
    let e = buf.indexOf(10, at);
    if (e < 0 || e > end) e = end;
    return buf.toString("latin1", at, e).trim();
  };
  let start = 0;
  const n = buf.length;
  while (start < n) {
    while (start < n && buf[start] === 10) start++;
    if (start >= n) break;
    let end = buf.indexOf(BLANK, start);
    if (end < 0) end = n;
    const pkg = field(F_PACKAGE, start, end), ver = field(F_VERSION, start, end), arch = field(F_ARCH, start, end);
    const sha = field(F_SHA256, start, end).toLowerCase();
    if (pkg && ver && arch && /^[0-9a-f]{64}$/.test(sha)) visit(pkg, ver, arch, sha);
    start = end + 1;
  }
}

const BLANK = Buffer.from("\n\n");
const F_PACKAGE = Buffer.from("\nPackage:");
const F_VERSION = Buffer.from("\nVersion:");
const F_ARCH = Buffer.from("\nArchitecture:");
const F_SHA256 = Buffer.from("\nSHA256:");

/**
 * Verify every source entry's Release and collect the .debs of its verified
 * Packages indexes; with `only` (debKeys), only those (Debian's main index
 * alone lists ~65,000: ~20 MiB kept for a backfill that needs a few hundred).
 */
export function verifiedIndex(d: AptDirs, scratchDir: string, only: ReadonlySet<string> | null = null): VerifiedIndex {
  const debs = new Map<string, DebEvidence[]>();
  const problems: string[] = [];
  for (const e of sourceEntries(d)) {
    const prefix = join(d.lists, releasePrefix(e));
    const inRelease = `${prefix}InRelease`;
    const keys = entryKeyrings(e, d);
    const rings = keyringFiles(keys.paths, keys.inline, scratchDir);
    const signed = isRegular(inRelease)
      ? verifySigned(inRelease, null, rings, scratchDir)
      : isRegular(`${prefix}Release.gpg`)
        ? verifySigned(`${prefix}Release`, `${prefix}Release.gpg`, rings, scratchDir)
        : ({ ok: false, reason: "no InRelease or Release.gpg in the lists directory" } as const);
    if (!signed.ok) {
      problems.push(`${entryName(e)} (${e.from}): ${signed.reason}`);
      continue;
    }
    const key = signed.fingerprint;
    const rel = parseRelease(signed.text);
    const indexPaths = e.suite.endsWith("/") ? ["Packages"] : e.components.flatMap((c) => d.archs.map((a) => `${c}/binary-${a}/Packages`));
    for (const ip of indexPaths) {
      const want = rel.files.get(ip);
      if (!want) continue;
      let body: Buffer | null = null;
      for (const z of COMPRESSIONS) {
        body = readIndex(`${prefix}${ip.replace(/\//g, "_")}${z}`);
        if (body) break;
      }
      if (!body) continue;
      const sha = new Bun.CryptoHasher("sha256").update(body).digest("hex");
      if (sha !== want.sha256 || body.length !== want.size) {
        problems.push(`${entryName(e)}: ${ip}: SHA-256 differs from its signed Release`);
        continue;
      }
      const origin = entryName(e);
      packageDebs(body, (p, v, a, h) => {
        const k = debKey(p, v, a);
        if (only !== null && !only.has(k)) return;
        const list = debs.get(k) ?? [];
        if (!list.some((x) => x.sha256 === h)) list.push({ sha256: h, origin, key });
        debs.set(k, list);
      });
    }
  }
  return { debs, problems };
}
