// A local signed apt repository and an isolated apt, for the package tests:
// small .debs built with `dpkg-deb --build`, indexes by apt-ftparchive, an
// InRelease signed with a throwaway key in a private GNUPGHOME, a source entry
// with signed-by=, and apt-get run with its lists, cache and sources pointed
// into the temp directory (the machine's own apt configuration is untouched;
// dpkg's database is the machine's: installed test packages are purged by
// cleanup()). Files the packages install go under /opt/integrityd-test-PID.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { tempDir } from "./binary.ts";

export const PREFIX = `/opt/integrityd-test-${process.pid}`;

export interface DebSpec {
  name: string;
  version: string;
  /** path under PREFIX → content */
  files: Record<string, string | Buffer>;
  /** paths (under PREFIX) that are conffiles */
  conffiles?: string[];
  /** symlinks: path under PREFIX → target */
  links?: Record<string, string>;
}

const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C", DEBIAN_FRONTEND: "noninteractive" };

function sh(args: string[], opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}): string {
  const r = Bun.spawnSync(args, { cwd: opts.cwd, env: { ...ENV, ...opts.env }, stdout: "pipe", stderr: "pipe", stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]) });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: exit ${r.exitCode}\n${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

export function aptToolsMissing(): string | null {
  if (process.getuid?.() !== 0) return "not root (dpkg installs need it)";
  for (const t of ["/usr/bin/dpkg-deb", "/usr/bin/apt-ftparchive", "/usr/bin/gpg", "/usr/bin/gpgv", "/usr/bin/apt-get"]) if (!existsSync(t)) return `${t} missing`;
  return null;
}

export class AptRepo {
  readonly t = tempDir("integrityd-apt-");
  readonly dir = this.t.dir;
  readonly repo = join(this.dir, "repo");
  readonly gnupg = join(this.dir, "gnupg");
  readonly keyring = join(this.dir, "repo-key.gpg");
  readonly sourcesFile = join(this.dir, "sources.list");
  readonly installed = new Set<string>();
  fingerprint = "";

  constructor() {
    for (const d of [this.repo, this.gnupg, join(this.dir, "lists/partial"), join(this.dir, "cache/archives/partial"), join(this.dir, "parts")]) mkdirSync(d, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o755);
    this.fingerprint = this.newKey(this.gnupg, "integrityd test repo");
    writeFileSync(this.keyring, this.exportKey(this.gnupg, this.fingerprint));
    writeFileSync(this.sourcesFile, `deb [signed-by=${this.keyring}] file:${this.repo} ./\n`);
  }

  /** A fresh throwaway signing key in `home`; returns its fingerprint. */
  newKey(home: string, name: string): string {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    sh(["gpg", "--homedir", home, "--batch", "--passphrase", "", "--quick-gen-key", `${name} <test@invalid>`, "ed25519", "sign", "never"]);
    const out = sh(["gpg", "--homedir", home, "--with-colons", "--list-keys"]);
    return /^fpr:+([0-9A-F]{40}):/m.exec(out)![1];
  }

  /** A key's public part, binary (a keyring file for signed-by). */
  exportKey(home: string, fpr: string): Buffer {
    const r = Bun.spawnSync(["gpg", "--homedir", home, "--export", fpr], { env: ENV, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0 || r.stdout.length === 0) throw new Error(`gpg --export: ${r.stderr.toString()}`);
    return Buffer.from(r.stdout);
  }

  /** Build a .deb into the repository (with DEBIAN/md5sums and conffiles); returns its path. */
  buildDeb(spec: DebSpec): string {
    const root = join(this.dir, "build", `${spec.name}_${spec.version}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, "DEBIAN"), { recursive: true });
    const sums: string[] = [];
    for (const [rel, content] of Object.entries(spec.files)) {
      const p = join(root, PREFIX, rel);
      mkdirSync(join(p, ".."), { recursive: true });
      writeFileSync(p, content, { mode: rel.includes("bin/") ? 0o755 : 0o644 });
      sums.push(`${createHash("md5").update(content).digest("hex")}  ${join(PREFIX, rel).slice(1)}`);
    }
    for (const [rel, to] of Object.entries(spec.links ?? {})) {
      mkdirSync(join(root, PREFIX, rel, ".."), { recursive: true });
      symlinkSync(to, join(root, PREFIX, rel));
    }
    writeFileSync(join(root, "DEBIAN/control"), `Package: ${spec.name}\nVersion: ${spec.version}\nArchitecture: all\nMaintainer: test <test@invalid>\nDescription: integrityd test package\n`);
    writeFileSync(join(root, "DEBIAN/md5sums"), `${sums.join("\n")}\n`);
    if (spec.conffiles?.length) writeFileSync(join(root, "DEBIAN/conffiles"), spec.conffiles.map((c) => join(PREFIX, c)).join("\n") + "\n");
    const deb = join(this.repo, `${spec.name}_${spec.version}_all.deb`);
    sh(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb]);
    return deb;
  }

  /** Write Packages, Release and InRelease (signed with `home`'s key; none: unsigned). */
  publish(opts: { signWith?: string | null } = {}): void {
    const packages = sh(["apt-ftparchive", "packages", "."], { cwd: this.repo });
    writeFileSync(join(this.repo, "Packages"), packages);
    for (const f of ["Release", "InRelease", "Release.gpg"]) rmSync(join(this.repo, f), { force: true });
    const release = sh(["apt-ftparchive", "-o", "APT::FTPArchive::Release::Origin=integrityd-test", "release", "."], { cwd: this.repo });
    writeFileSync(join(this.repo, "Release"), release);
    const home = opts.signWith === undefined ? this.gnupg : opts.signWith;
    if (home !== null) sh(["gpg", "--homedir", home, "--batch", "--yes", "--clearsign", "-o", join(this.repo, "InRelease"), join(this.repo, "Release")]);
  }

  /** apt-get with everything pointed into the temp directory; extra: more -o options. */
  aptOptions(extra: string[] = []): string[] {
    const o = (kv: string) => ["-o", kv];
    return [
      ...o(`Dir::Etc::SourceList=${this.sourcesFile}`), ...o(`Dir::Etc::SourceParts=${join(this.dir, "parts")}`),
      ...o(`Dir::State::Lists=${join(this.dir, "lists")}`), ...o(`Dir::Cache=${join(this.dir, "cache")}`),
      ...o("APT::Sandbox::User=root"), ...o("Acquire::AllowInsecureRepositories=true"), ...o("Acquire::AllowDowngradeToInsecureRepositories=true"), ...o("APT::Get::AllowUnauthenticated=true"),
      ...o("Dpkg::Use-Pty=0"), ...o("DPkg::Lock::Timeout=120"), ...extra, // wait for another apt (unattended-upgrades) rather than fail
    ];
  }

  apt(args: string[], extra: string[] = []): { code: number; out: string } {
    const r = Bun.spawnSync(["apt-get", "-y", "-q", ...this.aptOptions(extra), ...args], { env: ENV, stdout: "pipe", stderr: "pipe" });
    for (const a of args) if (/^integrityd-test-/.test(a)) this.installed.add(a.replace(/=.*$/, ""));
    return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
  }

  update(): void {
    const r = this.apt(["update"]);
    if (r.code !== 0) throw new Error(`apt-get update: ${r.out}`);
  }

  cleanup(): void {
    for (const p of this.installed) Bun.spawnSync(["dpkg", "--purge", p], { env: ENV, stdout: "ignore", stderr: "ignore" });
    rmSync(PREFIX, { recursive: true, force: true });
    this.t.cleanup();
  }

  read(rel: string): string {
    return readFileSync(join(PREFIX, rel), "utf8");
  }
}
