// openat(2) and fstatat(2) in libc through bun:ffi, for the calls made once
// per entry (the lstat and the open of every file a walk visits): relative
// to a directory descriptor, with no path resolved through /proc. Contract:
// the same results as lstat/open of dirs.ts's at() path would give, errors
// thrown as { code, message } like node:fs's; `native` is null where libc
// or its struct stat layout is unknown here (then dirs.ts's /proc paths
// serve alone). Each thread (main, every walk worker) loads its own copy.
// Also lseek(2) with SEEK_DATA/SEEK_HOLE, to find a sparse file's data
// extents without reading its holes (reader.ts's sparse digest).
//
// Why: measured on a --scan-once of 20,000 files, lstat and open through
// /proc/self/fd/N/NAME cost ~5% more CPU than through whole paths; through
// these calls the walk costs what it did by path (see full.ts's header).
import { dlopen, FFIType, read } from "bun:ffi";
import { constants } from "node:os";
import type { StatFields } from "./facts.ts";

const AT_SYMLINK_NOFOLLOW = 0x100;

/** Byte offsets in struct stat of the fields kept (u64 unless noted; mode, uid, gid are u32). */
const LAYOUTS: Record<string, { dev: number; ino: number; nlink: number; nlink32: boolean; mode: number; uid: number; gid: number; rdev: number; size: number; mtime: number; ctime: number; bytes: number }> = {
  x64: { dev: 0, ino: 8, nlink: 16, nlink32: false, mode: 24, uid: 28, gid: 32, rdev: 40, size: 48, mtime: 88, ctime: 104, bytes: 144 },
  arm64: { dev: 0, ino: 8, nlink: 20, nlink32: true, mode: 16, uid: 24, gid: 28, rdev: 32, size: 48, mtime: 88, ctime: 104, bytes: 128 },
};

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(constants.errno).map(([k, v]) => [v, k]));

export interface NativeAt {
  /** lstat of entry `name` of `dirfd` (never follows). Throws { code }. */
  lstat(dirfd: number, name: Uint8Array): StatFields & { dev: bigint };
  /** open(2) of entry `name` of `dirfd`. Throws { code }. */
  open(dirfd: number, name: Uint8Array, flags: number): number;
  /**
   * lseek(fd, offset, SEEK_DATA or SEEK_HOLE): the start of the next data
   * extent (or hole) at or after offset; null for ENXIO (no data after
   * offset). Throws { code } (EINVAL: the file system cannot say).
   */
  seek(fd: number, offset: number, whence: "data" | "hole"): number | null;
}

const SEEK_DATA = 3;
const SEEK_HOLE = 4;

function load(): NativeAt | null {
  const layout = LAYOUTS[process.arch];
  if (!layout || process.platform !== "linux") return null;
  let lib;
  try {
    lib = dlopen("libc.so.6", {
      fstatat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      openat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      lseek: { args: [FFIType.i32, FFIType.i64, FFIType.i32], returns: FFIType.i64 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
  } catch {
    return null;
  }
  const sym = lib.symbols;
  const errnoAt = sym.__errno_location()!; // this thread's errno, fixed for its life
  const raw = new ArrayBuffer(layout.bytes);
  const view = new DataView(raw);
  const sbuf = new Uint8Array(raw);
  let cname = Buffer.allocUnsafe(256);
  const cstr = (name: Uint8Array): Buffer => {
    if (name.length + 1 > cname.length) cname = Buffer.allocUnsafe(name.length + 1);
    cname.set(name, 0);
    cname[name.length] = 0;
    return cname;
  };
  const fail = (what: string): never => {
    const n = read.i32(errnoAt, 0);
    const code = NAMES[n] ?? `E${n}`;
    throw Object.assign(new Error(`${code}: ${what} failed`), { code, errno: -n });
  };
  const u64 = (off: number) => view.getBigUint64(off, true);
  const ns = (off: number) => view.getBigInt64(off, true) * 1_000_000_000n + view.getBigInt64(off + 8, true);
  return {
    lstat(dirfd, name) {
      if (sym.fstatat(dirfd, cstr(name), sbuf, AT_SYMLINK_NOFOLLOW) !== 0) fail("lstat");
      return {
        dev: u64(layout.dev),
        ino: u64(layout.ino),
        nlink: layout.nlink32 ? BigInt(view.getUint32(layout.nlink, true)) : u64(layout.nlink),
        mode: BigInt(view.getUint32(layout.mode, true)),
        uid: BigInt(view.getUint32(layout.uid, true)),
        gid: BigInt(view.getUint32(layout.gid, true)),
        rdev: u64(layout.rdev),
        size: view.getBigInt64(layout.size, true),
        mtimeNs: ns(layout.mtime),
        ctimeNs: ns(layout.ctime),
      };
    },
    open(dirfd, name, flags) {
      const fd = sym.openat(dirfd, cstr(name), flags);
      if (fd < 0) fail("open");
      return fd;
    },
    seek(fd, offset, whence) {
      const r = Number(sym.lseek(fd, offset, whence === "data" ? SEEK_DATA : SEEK_HOLE));
      if (r >= 0) return r;
      if (read.i32(errnoAt, 0) === constants.errno.ENXIO) return null;
      return fail("lseek");
    },
  };
}

let loaded: NativeAt | null | undefined;

/** This thread's openat/fstatat, or null (use the /proc paths). */
export function nativeAt(): NativeAt | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}
