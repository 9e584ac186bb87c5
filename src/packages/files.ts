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

/** digestFile without blocking: chunks read with positional async reads (the event loop runs between them). */
export async function digestFileAsync(path: string): Promise<{ sha256: string; md5: string; size: number } | null> {
  let fh: import("node:fs/promises").FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!(await fh.stat()).isFile()) return null;
    const sha = new Bun.CryptoHasher("sha256");
    const md5 = new Bun.CryptoHasher("md5");
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      sha.update(buf.subarray(0, bytesRead));
      md5.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { sha256: sha.digest("hex"), md5: md5.digest("hex"), size };
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}
