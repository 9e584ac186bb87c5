// A Release file (the text gpgv verified out of InRelease, or Release beside
// Release.gpg): the fields and the SHA256 section, whose lines are
// "<hex> <size> <path>". Pure. Only SHA256 is read: MD5Sum and SHA1 lines are
// not evidence here.
import { fieldLines, parseStanzas } from "./deb822.ts";

export interface ReleaseIndex {
  sha256: string; // lower-case hex
  size: number;
}

export interface Release {
  origin: string;
  label: string;
  suite: string;
  codename: string;
  /** path relative to the Release file's directory → its SHA-256 */
  files: Map<string, ReleaseIndex>;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function parseRelease(text: string): Release {
  const st = parseStanzas(text)[0] ?? new Map<string, string>();
  const files = new Map<string, ReleaseIndex>();
  for (const line of fieldLines(st.get("sha256"))) {
    const parts = line.split(/\s+/);
    if (parts.length !== 3) continue;
    const hash = parts[0].toLowerCase();
    const size = Number(parts[1]);
    if (!HEX64.test(hash) || !Number.isSafeInteger(size) || size < 0) continue;
    files.set(parts[2], { sha256: hash, size });
  }
  const f = (k: string) => st.get(k) ?? "";
  return { origin: f("origin"), label: f("label"), suite: f("suite"), codename: f("codename"), files };
}
