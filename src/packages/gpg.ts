// Signature checks with gpgv (an argument array, never a shell): an InRelease
// (cleartext-signed) or a Release beside its Release.gpg, against exactly the
// keyrings apt uses for that source. Armored keyrings (.asc, inline Signed-By
// blocks) are dearmored into a private temporary directory first, as apt does.
// What is parsed afterwards is the text gpgv wrote out as signed (--output),
// never the file as it lies: text outside the signature cannot slip in.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dearmor } from "./armor.ts";
import { readRegular } from "./files.ts";

export type Signed = { ok: true; text: string; fingerprint: string } | { ok: false; reason: string };

const GPGV = ["/usr/bin/gpgv", "/bin/gpgv"];

function gpgvPath(): string | null {
  for (const p of GPGV) {
    try {
      if (lstatSync(p).isFile()) return p;
    } catch {
      // next
    }
  }
  return null;
}

/** A private scratch directory for dearmored keyrings and gpgv's output; removed by cleanup. */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "integrityd-gpgv-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The keyring files gpgv is given: binary keyrings as they are, armored ones
 * (by content) dearmored into dir. Unreadable or empty files are left out.
 */
export function keyringFiles(paths: readonly string[], inline: string | null, dir: string): string[] {
  const out: string[] = [];
  let n = 0;
  const armored = (text: string) => {
    const bin = dearmor(text);
    if (!bin) return;
    const p = join(dir, `key${n++}.gpg`);
    writeFileSync(p, bin, { mode: 0o600 });
    out.push(p);
  };
  if (inline) armored(inline);
  for (const p of paths) {
    const data = readRegular(p);
    if (data === null || data.length === 0) continue;
    if (data.subarray(0, 64).toString("latin1").includes("-----BEGIN PGP")) armored(data.toString("latin1"));
    else out.push(p);
  }
  return out;
}

/**
 * Verify `signed` (InRelease; or Release with its detached `signature`)
 * with the given keyrings. ok: gpgv exited 0 and reported a VALIDSIG; the
 * fingerprint is the primary key's.
 */
export function verifySigned(signed: string, signature: string | null, keyrings: readonly string[], dir: string): Signed {
  if (keyrings.length === 0) return { ok: false, reason: "no keyring for this source" };
  const gpgv = gpgvPath();
  if (!gpgv) return { ok: false, reason: "gpgv is not installed" };
  const out = join(dir, `signed-${process.pid}-${Math.random().toString(36).slice(2)}`);
  if (signature) {
    // verify a private copy, and parse that copy: the file cannot change between the two
    const copy = readRegular(signed);
    if (copy === null) return { ok: false, reason: `${signed}: not a readable regular file` };
    writeFileSync(out, copy, { mode: 0o600 });
    signed = out;
  }
  const args = [gpgv, "--quiet", "--status-fd", "1", ...keyrings.flatMap((k) => ["--keyring", k])];
  args.push(...(signature ? [signature, signed] : ["--output", out, signed]));
  const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin", LC_ALL: "C" } });
  const status = r.stdout.toString();
  const valid = /^\[GNUPG:\] VALIDSIG (\S+)(?: \S+){8} (\S+)/m.exec(status) ?? /^\[GNUPG:\] VALIDSIG (\S+)/m.exec(status);
  if (r.exitCode !== 0 || !valid) {
    const why = /^\[GNUPG:\] (BADSIG|ERRSIG|EXPKEYSIG|REVKEYSIG|NO_PUBKEY|NODATA)\b/m.exec(status)?.[1];
    return { ok: false, reason: why ? `signature not valid (${why})` : `gpgv failed: ${r.stderr.toString().trim().split("\n")[0] ?? "exit " + r.exitCode}` };
  }
  let text: string;
  try {
    text = readFileSync(out, "latin1");
  } catch (e) {
    return { ok: false, reason: `gpgv wrote no output: ${(e as Error).message}` };
  } finally {
    rmSync(out, { force: true });
  }
  return { ok: true, text, fingerprint: (valid[2] ?? valid[1]).toUpperCase() };
}
