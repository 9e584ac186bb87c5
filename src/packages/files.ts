// Reading the package manager's files safely: never through a symlink, never
// a FIFO or device (opened O_NOFOLLOW|O_NONBLOCK, then fstat must say regular).
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync } from "node:fs";

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

/** SHA-256 and MD5 (hex) of a regular file's content, read in chunks, or null (not a readable regular file). */
export function digestFile(path: string | Uint8Array): { sha256: string; md5: string; size: number } | null {
  let fd: number;
  try {
    fd = openSync(typeof path === "string" ? path : Buffer.from(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const sha = new Bun.CryptoHasher("sha256");
    const md5 = new Bun.CryptoHasher("md5");
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      sha.update(buf.subarray(0, n));
      md5.update(buf.subarray(0, n));
      size += n;
    }
    return { sha256: sha.digest("hex"), md5: md5.digest("hex"), size };
  } catch {
    return null;
  } finally {
    closeSync(fd);
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
