// The system calls of change hints, from libc through bun:ffi: fanotify_init,
// fanotify_mark, inotify_init1, inotify_add_watch, poll, read, eventfd,
// write, open_by_handle_at and fstatfs. Contract: each returns what the call returns
// (a descriptor, 0, a byte count), or throws { code, message } with the errno
// name; `hintCalls()` is null where libc cannot be loaded (then hints are off
// and the trickle alone checks). Each thread (main, the watcher worker) loads
// its own copy. Paths are passed NUL-terminated; nothing here resolves a path
// for a check: the scanner re-checks every hinted path its own way.
import { dlopen, FFIType, read } from "bun:ffi";
import { constants } from "node:os";
import { constants as fsConstants } from "node:fs";

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(constants.errno).map(([k, v]) => [v, k]));

export const FAN = {
  CLOEXEC: 0x1, NONBLOCK: 0x2, REPORT_DIR_FID: 0x400, REPORT_NAME: 0x800,
  MARK_ADD: 0x1, MARK_DONT_FOLLOW: 0x4, MARK_ONLYDIR: 0x8, MARK_FLUSH: 0x80, MARK_FILESYSTEM: 0x100, MARK_IGNORE_SURV: 0x400 | 0x40,
  EVENT_ON_CHILD: 0x08000000,
  MODIFY: 0x2, ATTRIB: 0x4, CLOSE_WRITE: 0x8, MOVED_FROM: 0x40, MOVED_TO: 0x80, CREATE: 0x100, DELETE: 0x200,
  Q_OVERFLOW: 0x4000, ONDIR: 0x40000000,
  INFO_DFID_NAME: 2,
} as const;

export const IN = {
  NONBLOCK: 0x800, CLOEXEC: 0x80000,
  MODIFY: 0x2, ATTRIB: 0x4, CLOSE_WRITE: 0x8, MOVED_FROM: 0x40, MOVED_TO: 0x80, CREATE: 0x100, DELETE: 0x200,
  DELETE_SELF: 0x400, MOVE_SELF: 0x800, Q_OVERFLOW: 0x4000, IGNORED: 0x8000, ISDIR: 0x40000000,
  ONLYDIR: 0x01000000, DONT_FOLLOW: 0x02000000, EXCL_UNLINK: 0x04000000,
} as const;

/** What a change is, for both APIs: content, metadata, a name made or removed. */
export const FAN_MASK = FAN.MODIFY | FAN.ATTRIB | FAN.CLOSE_WRITE | FAN.MOVED_FROM | FAN.MOVED_TO | FAN.CREATE | FAN.DELETE | FAN.ONDIR;
export const IN_MASK = IN.MODIFY | IN.ATTRIB | IN.CLOSE_WRITE | IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE | IN.DELETE | IN.DELETE_SELF | IN.MOVE_SELF
  | IN.ONLYDIR | IN.DONT_FOLLOW | IN.EXCL_UNLINK;

const O_PATH = 0x200000;

export interface HintCalls {
  fanotifyInit(): number;
  /** A filesystem mark on the file system holding `path`. */
  fanotifyMark(fd: number, path: string): void;
  /**
   * An ignore mark (FAN_MARK_IGNORE, kernel 6.0+) on the directory `path`
   * and its entries: the kernel drops their events before they are queued.
   * False when the kernel refuses it.
   */
  fanotifyIgnore(fd: number, path: string): boolean;
  /**
   * The same ignore mark on the directory open as `dirFd` (an O_PATH
   * descriptor from openHandle: the mark lands on that very object, whatever
   * its name is by now). False when the kernel refuses it.
   */
  fanotifyIgnoreAt(fd: number, dirFd: number): boolean;
  /** Remove every inode mark (the ignore marks); the filesystem marks stay. */
  fanotifyFlushIgnores(fd: number): void;
  inotifyInit(): number;
  /** A watch on the directory `path` (never following a symlink); the watch descriptor. */
  inotifyWatch(fd: number, path: Uint8Array): number;
  /** Wait up to `ms` (-1: for ever) for `fd` or `wake` to be readable: bit 1 `fd` is, bit 2 `wake` is. */
  poll(fd: number, wake: number, ms: number): number;
  /** A non-blocking eventfd (a wake-up for a thread waiting in poll). */
  eventfd(): number;
  /** Add 1 to an eventfd (wakes its poll). */
  signal(fd: number): void;
  /** read(2) into buf; 0 when nothing is there (EAGAIN). */
  read(fd: number, buf: Uint8Array): number;
  /** open_by_handle_at(mountFd, handle, O_PATH): a descriptor for the object. */
  openHandle(mountFd: number, handle: Uint8Array): number;
  /** The file system id (f_fsid of fstatfs) of the file system holding fd, as 8 bytes in hex. */
  fsid(fd: number): string;
}

function load(): HintCalls | null {
  if (process.platform !== "linux") return null;
  let lib;
  try {
    lib = dlopen("libc.so.6", {
      fanotify_init: { args: [FFIType.u32, FFIType.u32], returns: FFIType.i32 },
      fanotify_mark: { args: [FFIType.i32, FFIType.u32, FFIType.u64, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
      inotify_init1: { args: [FFIType.i32], returns: FFIType.i32 },
      inotify_add_watch: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
      eventfd: { args: [FFIType.u32, FFIType.i32], returns: FFIType.i32 },
      write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      open_by_handle_at: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      fstatfs: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
  } catch {
    return null;
  }
  const sym = lib.symbols;
  const errnoAt = sym.__errno_location()!;
  const errno = () => read.i32(errnoAt, 0);
  const fail = (what: string): never => {
    const n = errno();
    const code = NAMES[n] ?? `E${n}`;
    throw Object.assign(new Error(`${what}: ${code}`), { code });
  };
  const cstr = (p: Uint8Array | string) => {
    const b = typeof p === "string" ? Buffer.from(p) : p;
    const out = Buffer.alloc(b.length + 1);
    out.set(b, 0);
    return out;
  };
  const pfd = new Uint8Array(16);
  const pview = new DataView(pfd.buffer);
  const sfs = new Uint8Array(128);
  return {
    fanotifyInit() {
      const fd = sym.fanotify_init(FAN.CLOEXEC | FAN.NONBLOCK | FAN.REPORT_DIR_FID | FAN.REPORT_NAME, 0);
      return fd < 0 ? fail("fanotify_init") : fd;
    },
    fanotifyMark(fd, path) {
      if (sym.fanotify_mark(fd, FAN.MARK_ADD | FAN.MARK_FILESYSTEM, BigInt(FAN_MASK), -100, cstr(path)) !== 0) fail("fanotify_mark");
    },
    fanotifyIgnore(fd, path) {
      const flags = FAN.MARK_ADD | FAN.MARK_IGNORE_SURV | FAN.MARK_DONT_FOLLOW | FAN.MARK_ONLYDIR;
      return sym.fanotify_mark(fd, flags, BigInt(FAN_MASK | FAN.EVENT_ON_CHILD), -100, cstr(path)) === 0;
    },
    fanotifyIgnoreAt(fd, dirFd) {
      // fanotify_mark takes no O_PATH descriptor with a NULL path (EBADF);
      // its /proc/self/fd link, followed, is the object itself
      const flags = FAN.MARK_ADD | FAN.MARK_IGNORE_SURV | FAN.MARK_ONLYDIR;
      return sym.fanotify_mark(fd, flags, BigInt(FAN_MASK | FAN.EVENT_ON_CHILD), -100, cstr(`/proc/self/fd/${dirFd}`)) === 0;
    },
    fanotifyFlushIgnores(fd) {
      if (sym.fanotify_mark(fd, FAN.MARK_FLUSH, 0n, -100, null) !== 0) fail("fanotify_mark(FAN_MARK_FLUSH)");
    },
    inotifyInit() {
      const fd = sym.inotify_init1(IN.NONBLOCK | IN.CLOEXEC);
      return fd < 0 ? fail("inotify_init1") : fd;
    },
    inotifyWatch(fd, path) {
      const wd = sym.inotify_add_watch(fd, cstr(path), IN_MASK);
      return wd < 0 ? fail("inotify_add_watch") : wd;
    },
    poll(fd, wake, ms) {
      for (const [i, f] of [[0, fd], [8, wake]]) {
        pview.setInt32(i, f, true);
        pview.setInt16(i + 4, 1, true); // POLLIN
        pview.setInt16(i + 6, 0, true);
      }
      const r = sym.poll(pfd, 2n, ms);
      if (r < 0) {
        if (errno() === constants.errno.EINTR) return 0;
        fail("poll");
      }
      return (pview.getInt16(6, true) !== 0 ? 1 : 0) | (pview.getInt16(14, true) !== 0 ? 2 : 0);
    },
    eventfd() {
      const fd = sym.eventfd(0, 0x80000 | 0x800); // EFD_CLOEXEC | EFD_NONBLOCK
      return fd < 0 ? fail("eventfd") : fd;
    },
    signal(fd) {
      const one = new BigUint64Array([1n]);
      if (Number(sym.write(fd, one, 8n)) < 0 && errno() !== constants.errno.EAGAIN) fail("write");
    },
    read(fd, buf) {
      const n = Number(sym.read(fd, buf, BigInt(buf.length)));
      if (n >= 0) return n;
      if (errno() === constants.errno.EAGAIN) return 0;
      return fail("read");
    },
    openHandle(mountFd, handle) {
      const fd = sym.open_by_handle_at(mountFd, handle, O_PATH | fsConstants.O_NOFOLLOW);
      return fd < 0 ? fail("open_by_handle_at") : fd;
    },
    fsid(fd) {
      if (sym.fstatfs(fd, sfs) !== 0) fail("fstatfs");
      return Buffer.from(sfs.subarray(56, 64)).toString("hex"); // f_fsid: 7 longs in (x86_64, arm64)
    },
  };
}

let loaded: HintCalls | null | undefined;

/** This thread's hint calls, or null (no libc here). */
export function hintCalls(): HintCalls | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}
