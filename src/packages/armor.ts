// ASCII armor to binary (an .asc keyring or an inline Signed-By key block) so
// gpgv can read it as a keyring. Pure. Returns null for text that is not one
// armored block.
export function dearmor(text: string): Uint8Array | null {
  const begin = /-----BEGIN PGP PUBLIC KEY BLOCK-----/.exec(text);
  const end = /-----END PGP PUBLIC KEY BLOCK-----/.exec(text);
  if (!begin || !end || end.index < begin.index) return null;
  const body = text.slice(begin.index + begin[0].length, end.index).split("\n").map((l) => l.trim());
  // armor headers ("Key: value") never look like base64 (no ':'); the checksum line starts with '='
  const b64 = body.filter((l) => l !== "" && l !== "." && !l.includes(":") && !l.startsWith("=")).join("");
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return null;
  const out = Buffer.from(b64, "base64");
  return out.length > 0 ? new Uint8Array(out) : null;
}
