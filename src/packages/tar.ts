// A streaming tar reader for a package's data tarball (what `dpkg-deb
// --fsys-tarfile` writes on a pipe): fed chunks in any sizes, it calls back
// once per member with its header and, for a regular file, the SHA-256 and
// MD5 of its bytes (hashed as they stream by; nothing is buffered but one
// 512-byte header). Pure: no I/O, no clock.
//
// Formats: ustar (name + prefix), GNU long names and long link names
// (typeflag L / K), pax extended headers (typeflag x: path, linkpath, size,
// uid, gid, mtime ignored; g global headers are skipped). Numbers are octal
// or GNU base-256. A hard link (typeflag 1) gets the digests of the member it
// names. Anything malformed throws TarError: the caller treats the whole
// package as not verifiable (never half a manifest).
export class TarError extends Error {}

export type TarType = "file" | "hardlink" | "symlink" | "dir" | "chardev" | "blockdev" | "fifo" | "other";

export interface TarEntry {
  /** The member's path as stored, bytes (the caller normalises "./"). */
  path: Uint8Array;
  type: TarType;
  /** permission bits incl. setuid/setgid/sticky (& 07777) */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** symlink or hard link target, bytes; null for other types */
  link: Uint8Array | null;
  /** regular files and hard links: SHA-256 and MD5 of the content (raw bytes) */
  sha256: Uint8Array | null;
  md5: Uint8Array | null;
}

const BLOCK = 512;
const TYPES: Record<string, TarType> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "chardev", "4": "blockdev", "5": "dir", "6": "fifo",
};

function cstr(b: Uint8Array, off: number, len: number): Uint8Array {
  const end = b.subarray(off, off + len).indexOf(0);
  return b.slice(off, end < 0 ? off + len : off + end);
}

/** An octal (space/NUL-terminated) or GNU base-256 number field. */
export function tarNumber(b: Uint8Array, off: number, len: number): number {
  if (b[off] & 0x80) {
    if (b[off] === 0xff) throw new TarError("negative base-256 number");
    let n = b[off] & 0x7f;
    for (let i = 1; i < len; i++) {
      n = n * 256 + b[off + i];
      if (n > Number.MAX_SAFE_INTEGER) throw new TarError("number out of range");
    }
    return n;
  }
  let n = 0;
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new TarError("bad octal number in header");
    n = n * 8 + (c - 0x30);
  }
  return n;
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === tarNumber(h, 148, 8);
}

/** pax records "LEN key=value\n" → a map of key to raw value bytes. */
export function parsePax(b: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    if (sp < 0) throw new TarError("bad pax record");
    const len = Number(Buffer.from(b.subarray(i, sp)).toString("latin1"));
    if (!Number.isInteger(len) || len <= sp - i || i + len > b.length) throw new TarError("bad pax record length");
    const rec = b.subarray(sp + 1, i + len - 1); // without the newline
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarError("bad pax record");
    out.set(Buffer.from(rec.subarray(0, eq)).toString("latin1"), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

const MAX_META = 1 << 20; // a long name or pax header beyond 1 MiB is not a package

type State =
  | { s: "header" }
  | { s: "data"; entry: TarEntry; left: number; pad: number; sha: Bun.CryptoHasher | null; md5: Bun.CryptoHasher | null }
  | { s: "meta"; kind: "L" | "K" | "x" | "g"; parts: Uint8Array[]; left: number; pad: number }
  | { s: "skip"; left: number }
  | { s: "end" };

export class TarReader {
  private st: State = { s: "header" };
  private head = new Uint8Array(BLOCK);
  private headFill = 0;
  private longName: Uint8Array | null = null;
  private longLink: Uint8Array | null = null;
  private pax: Map<string, Uint8Array> | null = null;
  private digests = new Map<string, { sha256: Uint8Array | null; md5: Uint8Array | null }>();
  private zeros = 0;

  constructor(private readonly onEntry: (e: TarEntry) => void) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      const st = this.st;
      if (st.s === "end") return; // trailing padding after the end blocks
      if (st.s === "header") {
        const n = Math.min(BLOCK - this.headFill, chunk.length - i);
        this.head.set(chunk.subarray(i, i + n), this.headFill);
        this.headFill += n;
        i += n;
        if (this.headFill === BLOCK) {
          this.headFill = 0;
          this.header(this.head);
        }
      } else if (st.s === "skip") {
        const n = Math.min(st.left, chunk.length - i);
        st.left -= n;
        i += n;
        if (st.left === 0) this.st = { s: "header" };
      } else if (st.s === "data") {
        if (st.left > 0) {
          const n = Math.min(st.left, chunk.length - i);
          const part = chunk.subarray(i, i + n);
          st.sha?.update(part);
          st.md5?.update(part);
          st.left -= n;
          i += n;
          if (st.left > 0) continue;
        }
        this.finishData(st);
      } else {
        if (st.left > 0) {
          const n = Math.min(st.left, chunk.length - i);
          st.parts.push(chunk.slice(i, i + n));
          st.left -= n;
          i += n;
          if (st.left > 0) continue;
        }
        this.finishMeta(st);
      }
    }
  }

  /** The stream ended: it must have ended at a member boundary. */
  end(): void {
    if (this.st.s === "end" || (this.st.s === "header" && this.headFill === 0)) return;
    throw new TarError("archive truncated");
  }

  private header(h: Uint8Array): void {
    if (h.every((c) => c === 0)) {
      if (++this.zeros === 2) this.st = { s: "end" };
      return;
    }
    this.zeros = 0;
    if (!checksumOk(h)) throw new TarError("header checksum mismatch");
    const flag = String.fromCharCode(h[156]);
    let size = tarNumber(h, 124, 12);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (flag === "L" || flag === "K" || flag === "x" || flag === "g") {
      if (size > MAX_META) throw new TarError("metadata header too long");
      this.st = { s: "meta", kind: flag, parts: [], left: size, pad };
      if (size === 0) this.finishMeta(this.st);
      return;
    }
    const magic = Buffer.from(h.subarray(257, 263)).toString("latin1");
    let path = cstr(h, 0, 100);
    if (magic === "ustar\u0000") {
      const prefix = cstr(h, 345, 155);
      if (prefix.length) path = Buffer.concat([prefix, Buffer.from("/"), path]);
    }
    let link: Uint8Array | null = cstr(h, 157, 100);
    let uid = tarNumber(h, 108, 8);
    let gid = tarNumber(h, 116, 8);
    if (this.longName) path = this.longName;
    if (this.longLink) link = this.longLink;
    const pax = this.pax;
    if (pax) {
      const num = (k: string) => {
        const v = pax.get(k);
        if (v === undefined) return undefined;
        const n = Number(Buffer.from(v).toString("latin1"));
        if (!Number.isSafeInteger(n) || n < 0) throw new TarError(`bad pax ${k}`);
        return n;
      };
      path = pax.get("path") ?? path;
      link = pax.get("linkpath") ?? link;
      size = num("size") ?? size;
      uid = num("uid") ?? uid;
      gid = num("gid") ?? gid;
    }
    this.longName = this.longLink = this.pax = null;
    const type = TYPES[flag] ?? "other";
    const entry: TarEntry = {
      path, type, mode: tarNumber(h, 100, 8) & 0o7777, uid, gid, size,
      link: type === "symlink" || type === "hardlink" ? link : null, sha256: null, md5: null,
    };
    const realPad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === "hardlink") {
      const d = this.digests.get(Buffer.from(link!).toString("latin1"));
      if (d) ({ sha256: entry.sha256, md5: entry.md5 } = d);
    }
    if (type === "file") {
      this.st = { s: "data", entry, left: size, pad: realPad, sha: new Bun.CryptoHasher("sha256"), md5: new Bun.CryptoHasher("md5") };
      if (size === 0) this.finishData(this.st);
      return;
    }
    this.emit(entry);
    this.st = size + realPad > 0 && type !== "dir" && type !== "symlink" && type !== "hardlink" ? { s: "skip", left: size + realPad } : { s: "header" };
  }

  private finishData(st: Extract<State, { s: "data" }>): void {
    st.entry.sha256 = new Uint8Array(st.sha!.digest() as Buffer);
    st.entry.md5 = new Uint8Array(st.md5!.digest() as Buffer);
    st.sha = st.md5 = null;
    this.emit(st.entry);
    this.st = st.pad > 0 ? { s: "skip", left: st.pad } : { s: "header" };
  }

  private finishMeta(st: Extract<State, { s: "meta" }>): void {
    const body = Buffer.concat(st.parts);
    if (st.kind === "L") this.longName = cstr(body, 0, body.length);
    else if (st.kind === "K") this.longLink = cstr(body, 0, body.length);
    else if (st.kind === "x") this.pax = parsePax(body);
    this.st = st.pad > 0 ? { s: "skip", left: st.pad } : { s: "header" };
  }

  private emit(e: TarEntry): void {
    if (e.type === "file") this.digests.set(Buffer.from(e.path).toString("latin1"), { sha256: e.sha256, md5: e.md5 });
    this.onEntry(e);
  }
}

/** A member path as installed: "./usr/bin/x" → "/usr/bin/x"; "./" → "/". */
export function installedPath(p: Uint8Array): Buffer {
  let s = Buffer.from(p);
  if (s[0] === 0x2e && s[1] === 0x2f) s = s.subarray(1);
  else if (s[0] !== 0x2f) s = Buffer.concat([Buffer.from("/"), s]);
  if (s.length > 1 && s[s.length - 1] === 0x2f) s = s.subarray(0, s.length - 1);
  return s;
}
