// --scan-once's way of driving the scanner: one pass at full speed.
//
// No pacing, no stalest re-check, the queue in memory (a killed pass is simply
// started afresh), and the walk on worker threads (the `walker`, pool.ts): a
// visit opens and lists a directory there (relative to its parent's
// descriptor, kept open here in `dirs`), its children are lstat'ed and hashed
// there in batches relative to the directory's own descriptor, and this thread only compares and records them (up to
// FULL_SPEED_INFLIGHT directories side by side), grouping visits into larger
// transactions (one per BATCH_VISITS entries or BATCH_MS), still atomic:
// reports are emitted only after the commit that holds them (record.ts).
// This is the hot path of --scan-once, tuned against AIDE (bench/scan): keep
// its shape.
//
// Why it is shaped so. The workers (cores - 1, 1 to 3, pool.ts) list a
// directory with raw names and lstat, open, check and hash its children in
// jobs of CHILDREN_PER_JOB; answers cross back as NUL-separated text, an
// lstat's numbers as 80 raw bytes (wire.ts). The main thread helps: a job that
// finds every worker 8 jobs deep runs here, one per event-loop turn, or goes
// back to a worker that runs short (one JavaScript engine fewer: ~7% less CPU
// than a third worker). Into an empty table (the usual first baseline) each
// path is recorded once, with no record looked up; directories are walked in
// byte order so records enter SQLite's B-trees nearly in key order.
// Where a baseline pass's CPU went when measured (50,000 files, 1.87 GiB, two
// vCPUs, ~4.3 s of CPU in all): SHA-256 ~1.35 s, copying out of the page cache
// and open/read/close ~0.8 s, the lstat and the two fstats of the torn-read
// checks ~0.6 s, SQLite inserts ~0.45 s, JIT and GC ~0.4 s; both vCPUs ~90%
// busy. The steps, as ratios to AIDE's time: hashing alone on a worker with
// the walk here 0.77-1.13; walk and lstat on the workers, children committed
// with their directory 0.52-0.58; no lookups into an empty table and byte
// order 0.49-0.54; the main thread helping 0.46-0.49.
// Walking by descriptor (dirs.ts) adds per directory an open, an fstat and a
// readdir through /proc/self/fd; each entry's lstat and open go through
// openat/fstatat (libc.ts), no dearer than by path. Measured against the walk
// by path (20,000 files, 160 MB, 10 alternating runs each): +2-3% CPU, within
// the noise; through /proc for every entry it was ~5% more.
// Tried and dropped (no gain through the noise): a checkpoint after each batch,
// 16 KiB pages, batches of 20,000; smaller read chunks; number instead of
// bigint fstats. Not possible with the pinned Bun: skipping the lstat of
// names readdir reports as regular files (~8% of the workers' CPU): its
// readdirSync with withFileTypes and buffer names returns unusable entries.
import { OpenDirs } from "./dirs.ts";
import type { Visited } from "./reader.ts";
import { parentOf, pathKey, samePath, type PathBytes } from "./paths.ts";
import type { FullDriver, ScanHost, Walked, Walker } from "./host.ts";

const FULL_SPEED_INFLIGHT = 32;
const BATCH_VISITS = 5000;
const BATCH_MS = 1000;
/** Children visited on the walker per job. */
const CHILDREN_PER_JOB = 64;
/** A bigger directory has its children queued one by one instead (memory bounded by the queue). */
const WALK_CHILDREN_MAX = 4096;
/**
 * Directories kept open between visits (dirs.ts), besides those in use (at
 * most two per visit in flight): far below the daemon's 1024 descriptors,
 * and plenty for a walk that goes depth first.
 */
const KEEP_OPEN = 256;

export class FullSpeed implements FullDriver {
  private dropsAtStart = 0;
  readonly dirs = new OpenDirs(KEEP_OPEN);

  constructor(private readonly s: ScanHost) {
    // a full pass touches every page of the entries table: let them stay cached
    // and checkpoint the WAL (with its fsync) rarely during the pass: a clean close checkpoints at the end
    s.db.exec("PRAGMA cache_size = -32768");
    s.db.exec("PRAGMA wal_autocheckpoint = 16384");
  }

  /**
   * Run the current cycle to its end (true) or until stop() (false):
   * FULL_SPEED_INFLIGHT visits (mostly directories, each with its children)
   * at a time, so the workers always have files to hash while this thread
   * records others.
   */
  async run(onStep?: () => void): Promise<boolean> {
    const s = this.s;
    const rec = s.recorder;
    if (s.stopped) return false;
    s.finishSweep();
    if (s.areas.length === 0) return false;
    if (s.cycles.number === 0) s.startCycle();
    // visits in flight by path; `wake` is resolved whenever one of them ends
    const inflight = new Map<string, Promise<void>>();
    this.dropsAtStart = s.store.drops;
    rec.freshTable = s.store.isEmpty();
    let wake: (() => void) | null = null;
    let ended = 0;
    const batching = !s.db.inTransaction;
    if (batching) rec.beginBatch(s.now());
    let failed = true;
    let error: unknown = null;
    try {
      for (;;) {
        if (error !== null) throw error;
        if (s.stopped) {
          await Promise.allSettled(inflight.values());
          failed = false;
          return false;
        }
        while (inflight.size < FULL_SPEED_INFLIGHT) {
          const path = s.store.take();
          if (!path) break;
          const key = pathKey(path);
          if (inflight.has(key)) continue;
          const job = s.visit(path, "traverse").then(
            () => {
              inflight.delete(key);
              onStep?.();
            },
            (e) => {
              inflight.delete(key);
              error ??= e;
            },
          ).finally(() => {
            ended++;
            wake?.();
          });
          inflight.set(key, job);
        }
        if (inflight.size === 0) {
          if (s.requeueUnvisited()) continue;
          failed = false;
          rec.commitBatch();
          s.endCycle();
          return true;
        }
        if (ended === 0) await new Promise<void>((r) => (wake = r));
        wake = null;
        ended = 0;
        if (error !== null) throw error;
        const b = rec.batchSize;
        if (b && (b.count >= BATCH_VISITS || s.now() - b.since >= BATCH_MS)) {
          // no visit is inside a transaction while awaiting: commit points are safe here
          rec.commitBatch();
          rec.beginBatch(s.now());
        }
      }
    } finally {
      // no visit may still hold a descriptor (a number reused by the next open) when they close
      await Promise.allSettled(inflight.values());
      this.dirs.closeAll();
      rec.freshTable = false;
      // a visit that failed may have left half its writes in the batch: the
      // whole batch is undone (none of its reports were emitted) and redone by
      // the next pass
      if (batching && failed) rec.rollbackBatch();
      else if (batching) rec.commitBatch();
    }
  }

  /**
   * Visits run side by side: whether the directory holding this entry was
   * found deleted meanwhile (then the entry went with it and is not recorded).
   * A child is queued only after its directory is stored: unless something
   * was dropped since the pass began, the directory is still there.
   */
  parentGone(path: PathBytes): boolean {
    const s = this.s;
    return s.store.drops > this.dropsAtStart && !s.store.has(parentOf(path)) && !s.areas.some((a) => samePath(a, path));
  }

  /**
   * Visit a directory's children in scope on the walker, in batches; null for
   * a huge directory (its children are queued one by one instead, so that
   * memory stays bounded by the queue, not by the directory's size).
   */
  async visitChildren(walker: Walker, dirfd: number, dir: PathBytes, names: Buffer[]): Promise<Walked | null> {
    if (names.length > WALK_CHILDREN_MAX) return null;
    const { names: kept, children } = this.s.childrenInScope(dir, names);
    const algo = this.s.config.hash;
    const jobs: Promise<Visited[]>[] = [];
    for (let k = 0; k < kept.length; k += CHILDREN_PER_JOB) jobs.push(walker.visitMany(dirfd, kept.slice(k, k + CHILDREN_PER_JOB), algo));
    return { children, visited: (await Promise.all(jobs)).flat() };
  }
}
