// Giving start-up's code pages back: once start-up has settled, after a rule
// reload and after a package backfill pass, the daemon asks the kernel to
// take back the pages of its own executable that it mapped read-only
// (madvise(2) MADV_PAGEOUT, Linux >= 5.4). What start-up alone needed (the
// parser and bytecode loader, the JIT tiers that compiled start-up's hot
// loops, the embedded rules' and schema's text) then stops counting in the
// daemon's RSS; what the daemon still runs is faulted back in when next used
// (from the page cache, or once from the disk if the kernel dropped it).
// Measured: at rest it re-touches ~30 of the ~50 MiB start-up leaves mapped
// (bench/logcheck's at-rest section prints both).
//
// Safe by construction: only mappings of our own executable (matched by
// path and inode, so a binary replaced by an upgrade still matches) that
// are not writable, and only MADV_PAGEOUT, which never changes content: a
// clean file page is dropped and re-read on use, a page the dynamic linker
// wrote (RELRO) is anonymous and stays (or is swapped, and comes back).
// Never MADV_DONTNEED, which would revert such a page to the file's bytes.
// Where the call is refused (older kernel, no libc) nothing happens.
//
// Pure: trimRanges(maps text, path, inode). Edge: trimStartupPages(),
// trimAndSay(why) (the same, with a debug line saying what it did).
import { dlopen, FFIType } from "bun:ffi";
import { readFileSync, readlinkSync, statSync } from "node:fs";
import { log } from "./log.ts";

/**
 * When the daemon's start-up has settled: at 30 s the rules are loaded
 * (cached: ~0.1 s; compiled in a child: a few s) and every task has taken its
 * first steps; at 5 min the first pass over a big area (a baseline of /usr)
 * has ended too.
 */
export const TRIM_AFTER_START_MS = [30_000, 300_000] as const;

const MADV_PAGEOUT = 21;

const DELETED = " (deleted)";

/**
 * [start, length] of every read-only mapping of the file (its path as
 * /proc/self/exe names it, its inode) in a /proc/PID/maps text. Matched by
 * path and inode, not by device: on btrfs and overlayfs the device maps
 * shows is not the one stat(2) gives.
 */
export function trimRanges(maps: string, path: string, inode: number): Array<[number, number]> {
  const want = path.endsWith(DELETED) ? path.slice(0, -DELETED.length) : path;
  const out: Array<[number, number]> = [];
  for (const line of maps.split("\n")) {
    // start-end perms offset dev inode path
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s+(.*)$/.exec(line);
    if (!m || Number(m[4]) !== inode || m[3]!.includes("w")) continue;
    const p = m[5]!.endsWith(DELETED) ? m[5]!.slice(0, -DELETED.length) : m[5];
    if (p !== want) continue;
    const a = parseInt(m[1]!, 16), b = parseInt(m[2]!, 16);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b <= a) continue;
    out.push([a, b - a]);
  }
  return out;
}

let madvise: ((addr: number, len: number, advice: number) => number) | null | undefined;

/** Ask the kernel to take back our executable's read-only pages; the bytes handed back (as asked, not as counted), or 0 where that cannot be done. */
export function trimStartupPages(): number {
  if (process.platform !== "linux") return 0;
  if (madvise === undefined) {
    try {
      const l = dlopen("libc.so.6", { madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 } });
      madvise = (a, n, adv) => l.symbols.madvise(a, n, adv);
    } catch {
      madvise = null;
    }
  }
  if (madvise === null) return 0;
  try {
    const ino = statSync("/proc/self/exe").ino;
    let asked = 0;
    for (const [start, len] of trimRanges(readFileSync("/proc/self/maps", "utf8"), readlinkSync("/proc/self/exe"), ino)) {
      if (madvise(start, len, MADV_PAGEOUT) === 0) asked += len;
    }
    return asked;
  } catch {
    return 0;
  }
}

/** trimStartupPages() after `why` ("start-up", "rule reload"), with a debug line: what was asked, RSS before and after. */
export function trimAndSay(why: string): void {
  const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;
  const before = process.memoryUsage.rss();
  const asked = trimStartupPages();
  if (asked === 0) log.debug(`memory: after ${why}, no program pages could be handed back (no madvise, or our executable not found in /proc/self/maps)`);
  else log.debug(`memory: after ${why}, ${mib(asked)} of read-only program mappings handed back to the kernel; RSS ${mib(before)} -> ${mib(process.memoryUsage.rss())}`);
}
