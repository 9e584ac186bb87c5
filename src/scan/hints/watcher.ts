// The watcher thread (a worker started by hints.ts): waits on a fanotify or
// inotify descriptor with poll(2), reads what the kernel queued and posts it
// to the main thread, whose event loop never waits on the kernel. It waits
// for ever: with nothing happening it never wakes (a timer wake costs the
// runtime about 0.04% of a core here, each); the main thread wakes it through
// an eventfd to hand it a message (stop, hold, counts). Compiled into the binary as its own
// entry point (build.ts).
//
// fanotify: each record's directory handle is opened (open_by_handle_at,
// O_PATH, against a descriptor of an area on the same file system, found by
// fsid) and named through /proc/self/fd; names are cached by handle, and the
// cache is dropped whenever a directory is renamed or removed. The writer is
// read from /proc right here, at once (writer.ts). Events of this process
// itself are passed over, and so is every event outside the areas (a
// filesystem mark sees the whole file system) before its writer is read;
// nothing of them reaches the main thread.
//
// Events elsewhere are then stopped in the kernel: a directory outside every
// area and above none (disjoint) gets an ignore mark (FAN_MARK_IGNORE with
// FAN_EVENT_ON_CHILD, on the very object the handle opened), so a busy
// directory elsewhere (a log, /tmp, another program's database) costs one
// event and a mark, then nothing: at rest the watcher does not wake. The
// marks go (FAN_MARK_FLUSH, the database's own ignore mark put back) when a
// directory is moved in or below an area or an area's ancestor (a marked
// directory may now be inside an area, or be an area's new name), and when
// IGNORE_CAP of them were placed (each pins its directory's inode).
//
// A directory moved into or out of an area, or above one, drops the cached names. inotify: records are
// posted raw (the main thread knows which directory each watch descriptor is).
//
// Messages in:  { op: "start", kind, fd, wake, areas: string[], keep: string[] } | { op: "stop" }
//               | { op: "hold", ms } (read nothing for ms: tests let the kernel's queue fill)
//               | { op: "counts" } (answered with { counts: WatcherCounts })
// Messages out: WatcherBatch, { counts }, and { stopped: true } once it let go.
import { closeSync, openSync, readlinkSync, constants } from "node:fs";
import { parseFanotify, parseInotify } from "./events.ts";
import { FAN, hintCalls } from "./ffi.ts";
import { readWriter, type Writer } from "./writer.ts";

declare const self: Worker;

/** One read's worth: hinted paths (fanotify), raw records (inotify), and whether the kernel's queue overflowed. */
export interface WatcherBatch {
  hints?: { path: Uint8Array; writer: Writer | null }[];
  raw?: { wd: number; mask: number; name: Uint8Array }[];
  overflow: boolean;
}

/** Directory names kept by handle (a few hundred bytes each). */
const CACHE = 16384;
/** Ignore marks placed before they are all removed and placed anew as events come. */
export const IGNORE_CAP = 1024;

/** What the watcher did since it started (status, tests): what the main thread never sees. */
export interface WatcherCounts {
  /** records read from the kernel */
  read: number;
  /** records passed over because their directory is outside every area */
  outside: number;
  /** ignore marks placed on directories outside the areas */
  ignored: number;
  /** times every ignore mark was removed (a directory moved near an area, or IGNORE_CAP reached) */
  flushes: number;
  /** batches posted to the main thread */
  posted: number;
}
const counts: WatcherCounts = { read: 0, outside: 0, ignored: 0, flushes: 0, posted: 0 };
const calls = hintCalls()!;
const buf = new Uint8Array(1 << 16);
let stopping = false;
let holdUntil = 0;

/**
 * After a wake, events are let gather this long before they are read: a busy
 * file system (a filesystem mark sees all of it) then costs at most
 * 1000/COALESCE_MS wakes a second (measured here with 2,200 events/s from
 * other programs: 1,400 reads a second without it).
 */
const COALESCE_MS = 200;
let wakeFd = -1;

/** Wait for the descriptor (or a wake from the main thread); reads held: just wait. */
function ready(fd: number): boolean {
  const held = holdUntil - Date.now();
  if (held > 0) {
    Bun.sleepSync(Math.min(held, 250));
    return false;
  }
  const r = calls.poll(fd, wakeFd, -1);
  if (r & 2) calls.read(wakeFd, eight);
  if (!(r & 1)) return false;
  Bun.sleepSync(COALESCE_MS);
  return true;
}
const eight = new Uint8Array(8);

function runFanotify(fd: number, areas: string[], keep: string[]): void {
  const mounts = new Map<string, number>();
  for (const a of areas) {
    try {
      const m = openSync(a, constants.O_RDONLY | constants.O_DIRECTORY);
      const id = calls.fsid(m);
      if (mounts.has(id)) closeSync(m);
      else mounts.set(id, m);
    } catch {
      // an area that is gone: its events cannot be named (the trickle covers it)
    }
  }
  const roots = areas.map((a) => Buffer.from(a));
  const inAreas = (p: Buffer) => roots.some((r) => within(p, r));
  /** Neither in an area nor above one: nothing there is hinted, now or after a move of its own. */
  const disjoint = (p: Buffer) => roots.every((r) => !within(p, r) && !within(r, p));
  const names = new Map<string, Buffer>();
  const marked = new Set<string>();
  const nameOf = (fsid: string, handle: Uint8Array): Buffer | null => {
    const key = fsid + Buffer.from(handle.buffer, handle.byteOffset, handle.byteLength).toString("latin1");
    const hit = names.get(key);
    if (hit) return hit;
    const m = mounts.get(fsid);
    if (m === undefined) return null;
    let h: number;
    try {
      h = calls.openHandle(m, handle);
    } catch {
      return null;
    }
    try {
      const p = readlinkSync(`/proc/self/fd/${h}`, { encoding: "buffer" });
      if (disjoint(p)) {
        // named from this very descriptor: the mark cannot land on another directory
        if (!marked.has(key) && marked.size < IGNORE_CAP && calls.fanotifyIgnoreAt(fd, h)) {
          marked.add(key);
          counts.ignored++;
        }
        if (marked.size >= IGNORE_CAP) flush();
      }
      if (names.size >= CACHE) names.delete(names.keys().next().value!); // the oldest named
      names.set(key, p);
      return p;
    } catch {
      return null;
    } finally {
      closeSync(h);
    }
  };
  /**
   * Remove every ignore mark; the database's own goes back at once. The
   * names go too: a directory is marked when it is named, so a busy one is
   * marked again at its next event.
   */
  const flush = () => {
    if (marked.size === 0) return;
    calls.fanotifyFlushIgnores(fd);
    for (const k of keep) calls.fanotifyIgnore(fd, k);
    marked.clear();
    names.clear();
    counts.flushes++;
  };
  const tick = () => {
    if (stopping) return finish(fd, mounts);
    try {
      if (ready(fd)) {
        for (let round = 0; round < 64; round++) {
          const n = calls.read(fd, buf);
          if (n <= 0) break;
          const batch: WatcherBatch = { hints: [], overflow: false };
          const writers = new Map<number, Writer>();
          for (const r of parseFanotify(buf, n)) {
            counts.read++;
            if (r.overflow) batch.overflow = true;
            if (!r.handle || !r.fsid || !r.name) continue;
            const dir = nameOf(r.fsid, r.handle);
            if (!dir) continue;
            // a directory moved in or below an area, or above one: names cached
            // below it are stale, and a marked directory may be in an area now
            if ((r.mask & FAN.ONDIR) && (r.mask & (FAN.MOVED_FROM | FAN.MOVED_TO)) && !disjoint(dir)) {
              names.clear();
              flush();
            }
            if (!inAreas(dir)) {
              counts.outside++;
              continue;
            }
            if (r.pid === process.pid) continue;
            let w = writers.get(r.pid) ?? null;
            if (!w && r.pid > 0) writers.set(r.pid, (w = readWriter(r.pid)));
            const self = r.name.length === 1 && r.name[0] === 0x2e;
            batch.hints!.push({ path: self ? dir : join(dir, r.name), writer: w });
          }
          if (batch.hints!.length || batch.overflow) {
            postMessage(batch); // (no wake of the main thread for events elsewhere)
            counts.posted++;
          }
        }
      }
    } catch (e) {
      postMessage({ error: (e as Error).message });
    }
    setTimeout(tick, 0);
  };
  tick();
}

function runInotify(fd: number): void {
  const tick = () => {
    if (stopping) return finish(fd, new Map());
    try {
      if (ready(fd)) {
        for (let round = 0; round < 64; round++) {
          const n = calls.read(fd, buf);
          if (n <= 0) break;
          const recs = parseInotify(buf, n);
          counts.read += recs.length;
          counts.posted++;
          postMessage({ raw: recs.map(({ wd, mask, name }) => ({ wd, mask, name })), overflow: recs.some((r) => r.overflow) } satisfies WatcherBatch);
        }
      }
    } catch (e) {
      postMessage({ error: (e as Error).message });
    }
    setTimeout(tick, 0);
  };
  tick();
}

/** p is root or below it (whole components). */
function within(p: Buffer, root: Buffer): boolean {
  if (root.length === 1 && root[0] === 0x2f) return true;
  return p.length >= root.length && p.subarray(0, root.length).equals(root) && (p.length === root.length || p[root.length] === 0x2f);
}

function join(dir: Buffer, name: Uint8Array): Buffer {
  const root = dir.length === 1 && dir[0] === 0x2f;
  return Buffer.concat([dir, root ? Buffer.alloc(0) : Buffer.from("/"), name]);
}

function finish(fd: number, mounts: Map<string, number>): void {
  for (const m of mounts.values()) closeSync(m);
  void fd; // the main thread closes the kernel descriptor once this thread let go
  postMessage({ stopped: true });
}

self.onmessage = (e: MessageEvent) => {
  const m = e.data as
    | { op: "start"; kind: "fanotify" | "inotify"; fd: number; wake: number; areas: string[]; keep: string[] }
    | { op: "stop" } | { op: "hold"; ms: number } | { op: "counts" };
  if (m.op === "stop") stopping = true;
  else if (m.op === "hold") holdUntil = Date.now() + m.ms;
  else if (m.op === "counts") postMessage({ counts: { ...counts } });
  else if ((wakeFd = m.wake), m.kind === "fanotify") runFanotify(m.fd, m.areas, m.keep);
  else runInotify(m.fd);
};
