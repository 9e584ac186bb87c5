// A .deb's manifest: its control fields, its conffiles, and every member of
// its data tarball with SHA-256, MD5, mode and owner, read from
// `dpkg-deb --fsys-tarfile` on a pipe (dpkg-deb handles the xz/zstd/gzip
// compression; the tar is parsed in process, tar.ts). Nothing is unpacked.
import { availableParallelism } from "node:os";
import { parseStanzas } from "./deb822.ts";
import { parseConffiles } from "./dpkg.ts";
import { digestFileAsync, isRegular } from "./files.ts";
import type { ManifestEntry } from "./store.ts";
import { readChild } from "./pipe.ts";
import { installedPath, TarReader } from "./tar.ts";

const DPKG_DEB = "/usr/bin/dpkg-deb";
const ENV = { PATH: "/usr/bin:/bin", LC_ALL: "C" };

const S_IF: Record<string, number> = { file: 0o100000, hardlink: 0o100000, symlink: 0o120000, dir: 0o040000, chardev: 0o020000, blockdev: 0o060000, fifo: 0o010000, other: 0 };

export interface Manifest {
  package: string;
  version: string;
  arch: string;
  /** SHA-256 (hex) of the .deb file */
  deb: string;
  entries: ManifestEntry[];
  /** regular files among the entries */
  files: number;
  /** bytes of regular-file content read */
  bytes: number;
}

export class DebError extends Error {}

/** The control fields of a .deb (Package, Version, Architecture), by dpkg-deb. */
export function debFields(deb: string): { package: string; version: string; arch: string } {
  const r = Bun.spawnSync([DPKG_DEB, "--field", deb, "Package", "Version", "Architecture"], { stdout: "pipe", stderr: "pipe", env: ENV });
  if (r.exitCode !== 0) throw new DebError(`dpkg-deb --field: ${r.stderr.toString().trim().split("\n")[0]}`);
  const s = parseStanzas(r.stdout.toString("latin1"))[0];
  const pkg = s?.get("package"), version = s?.get("version"), arch = s?.get("architecture");
  if (!pkg || !version || !arch) throw new DebError("no Package, Version or Architecture field");
  return { package: pkg, version, arch };
}

function debConffiles(deb: string): Set<string> {
  const r = Bun.spawnSync([DPKG_DEB, "--info", deb, "conffiles"], { stdout: "pipe", stderr: "ignore", env: ENV });
  return r.exitCode === 0 ? parseConffiles(r.stdout.toString("latin1")) : new Set();
}

/** Read a whole .deb into a manifest. Throws DebError when it cannot be read whole. */
export async function buildManifest(deb: string): Promise<Manifest> {
  if (!isRegular(deb)) throw new DebError(`${deb}: not a regular file`);
  // the .deb's own hash is read while dpkg-deb decompresses (another core): its cost hides behind the pipe
  const digesting = digestFileAsync(deb);
  const fields = debFields(deb);
  const conffiles = debConffiles(deb);
  const entries: ManifestEntry[] = [];
  let files = 0, bytes = 0;
  const tar = new TarReader((e) => {
    const path = installedPath(e.path);
    const isFile = e.type === "file" || e.type === "hardlink";
    if (isFile) {
      files++;
      bytes += e.type === "file" ? e.size : 0;
    }
    // a symlink's "content" is its target: hashed so a retargeted link can be told apart
    const sha256 = isFile ? e.sha256 : e.type === "symlink" && e.link ? new Uint8Array(new Bun.CryptoHasher("sha256").update(e.link).digest() as Buffer) : null;
    entries.push({ path, sha256, md5: isFile ? e.md5 : null, mode: S_IF[e.type] | e.mode, uid: e.uid, gid: e.gid, conffile: conffiles.has(path.toString("latin1")) });
  });
  let r: { code: number; error: string };
  try {
    r = await readChild([DPKG_DEB, "--fsys-tarfile", deb], ENV, (chunk) => tar.push(chunk));
    if (r.code === 0) tar.end();
  } catch (e) {
    await digesting;
    throw new DebError(`${deb}: data tarball: ${(e as Error).message}`);
  }
  if (r.code !== 0) {
    await digesting;
    throw new DebError(`${deb}: dpkg-deb --fsys-tarfile: ${r.error}`);
  }
  const digest = await digesting;
  if (!digest) throw new DebError(`${deb}: not a readable regular file`);
  return { ...fields, deb: digest.sha256, entries, files, bytes };
}

/**
 * The manifests of many .debs, in their order, built up to `limit` at a time
 * (each dpkg-deb decompresses on a core of its own; at most `limit` manifests
 * are held). A .deb that cannot be read yields its error in its place.
 */
export async function* manifestsInOrder(debs: readonly string[], limit = Math.max(1, Math.min(4, availableParallelism()))): AsyncGenerator<Manifest | Error> {
  const built = new Map<number, Promise<Manifest | Error>>();
  const start = (i: number) => {
    if (i < debs.length) built.set(i, buildManifest(debs[i]).catch((e: Error) => e));
  };
  for (let i = 0; i < Math.min(limit, debs.length); i++) start(i);
  for (let i = 0; i < debs.length; i++) {
    const m = await built.get(i)!;
    built.delete(i);
    start(i + limit);
    yield m;
  }
}
