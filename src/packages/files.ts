// Reading the package manager's files safely: never through a symlink, never
// a FIFO or device (opened O_NOFOLLOW|O_NONBLOCK, then fstat must say regular).
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync } from "node:fs";
import { open } from "node:fs/promises";

/** The whole content of a regular file, or null (missing, not regular, unreadable, over maxBytes). */
export function readRegular(path: string | Uint8Array, maxBytes = 1 << 30): Buffer | null {
  let fd: number;
  try {
    fd = openSync(typeof path === "string" ? path : Buffer.from(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return null;
    return readFileSync(fd);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export interface Digests {
  sha256: string;
  md5: string;
  size: number;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK = 1 << 20;

/** SHA-256 and MD5 of a stream of chunks. */
class Both {
  private sha = new Bun.CryptoHasher("sha256");
  private md5 = new Bun.CryptoHasher("md5");
  size = 0;
  add(b: Uint8Array): void {
    this.sha.update(b);
    this.md5.update(b);
    this.size += b.length;
  }
  done(): Digests {
    return { sha256: this.sha.digest("hex"), md5: this.md5.digest("hex"), size: this.size };
  }
}

/** SHA-256 and MD5 (hex) of a regular file's content, read in chunks, or null (not a readable regular file). */
export function digestFile(path: string | Uint8Array): Digests | null {
  let fd: number;
  try {
    fd = openSync(typeof path === "string" ? path : Buffer.from(path), READ_FLAGS);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const d = new Both();
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0; ) d.add(buf.subarray(0, n));
    return d.done();
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** digestFile without blocking: async reads (the event loop runs between them). */
export async function digestFileAsync(path: string): Promise<Digests | null> {
  let fh: import("node:fs/promises").FileHandle;
  try {
    fh = await open(path, READ_FLAGS);
  } catch {
    return null;
  }
  try {
    if (!(await fh.stat()).isFile()) return null;
    const d = new Both();
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = (await fh.read(buf, 0, CHUNK, d.size)).bytesRead) > 0; ) d.add(buf.subarray(0, n));
    return d.done();
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

/** Whether path is a regular file (lstat: a symlink is not). */
export function isRegular(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}
