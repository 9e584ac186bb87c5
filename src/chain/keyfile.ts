// The chain's current key, in its own file beside the database (never in
// SQLite: the database's WAL, rollback journal and freed pages keep old copies
// of whatever is written there, and PRAGMA secure_delete only zeroes freed
// pages of the main file, not the WAL's frames nor a backup someone made).
//
// The file has a fixed length and is overwritten in place (pwrite at offset 0,
// then fdatasync), so the filesystem is asked to reuse the same blocks for the
// new key; the old key's bytes in memory are zeroed after each evolution. What
// this cannot promise: a copy-on-write filesystem (btrfs, ZFS), a journal with
// data=journal, an SSD's wear levelling or a backup/snapshot of the file may
// keep an old key. Those keys only allow forging entries of their own epoch
// and later, which the mails already sent pin down.
//
// Never follows a symlink (O_NOFOLLOW), refuses anything but a regular file,
// created 0600 (O_EXCL) and put back to 0600 at every write.
import { closeSync, constants, fchmodSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { KEY_LEN } from "./core.ts";

const MAGIC = "integrityd chain key v1\n";
const LENGTH = MAGIC.length + "epoch ".length + 20 + 1 + "key ".length + KEY_LEN * 2 + 1;

export interface StoredKey {
  epoch: number;
  key: Buffer;
}

function render(k: StoredKey): Buffer {
  const b = Buffer.from(`${MAGIC}epoch ${String(k.epoch).padStart(20, "0")}\nkey ${k.key.toString("hex")}\n`, "ascii");
  if (b.length !== LENGTH) throw new Error("chain key: bad length");
  return b;
}

function regular(fd: number, path: string): void {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
}

/** Read the key file; null when it does not exist. Throws with a one-line reason when it is unusable. */
export function readKeyFile(path: string): StoredKey | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw new Error(`${path}: is a symbolic link; refusing it`);
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const buf = Buffer.alloc(LENGTH + 1);
  try {
    regular(fd, path);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString("ascii");
    const m = /^integrityd chain key v1\nepoch (\d{20})\nkey ([0-9a-f]{64})\n$/.exec(text);
    if (n !== LENGTH || !m) throw new Error(`${path}: not an integrityd chain key file (damaged?)`);
    return { epoch: Number(m[1]), key: Buffer.from(m[2], "hex") };
  } finally {
    buf.fill(0);
    closeSync(fd);
  }
}

/** Write the key: in place over the old one when the file exists, else a new 0600 file. Durable on return. */
export function writeKeyFile(path: string, k: StoredKey): void {
  const bytes = render(k);
  let fd: number;
  let created = false;
  try {
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      created = true;
    }
  } catch (e) {
    bytes.fill(0);
    const code = (e as { code?: string }).code;
    throw new Error(code === "ELOOP" ? `${path}: is a symbolic link; refusing it` : `${path}: ${(e as Error).message}`);
  }
  try {
    regular(fd, path);
    fchmodSync(fd, 0o600);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, off);
    fdatasyncSync(fd);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  } finally {
    bytes.fill(0);
    closeSync(fd);
  }
  if (created) syncDir(dirname(path));
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // not every filesystem lets a directory be synced; the file itself is
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
