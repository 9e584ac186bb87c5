// The big-file lane: where a regular file above `smallfiles` is hashed in the
// daemon, so that no file delays the checking of the others.
//
// Contract. The trickle's visit (visit.ts) of a big file does not read it: it
// offers the path here and records nothing. The lane reads one file at a time
// at `byterate` (the pacer's byte gate, in chunks, yielding between them)
// while the trickle goes on with everything else at `filerate`. The lane's
// read is a visit like any other (Visitor.visit with why "lane"): lstat,
// fstat before and after, same inode, lstat again at the end; torn -> retried
// a few times, then "content not verified"; gone -> reported deleted; and one
// transaction holding state, report and history (record.ts). On stop the read
// is abandoned and nothing is written.
//
// The paths in the lane (waiting or being read) are `held`: the trickle's
// draw and stalest re-check pass them over (store.ts), and a visit that finds
// a held path again leaves it alone. A held path stays pending in the
// `pending` table (or stale in `entries`) until the lane records it, so the
// queue here can live in memory: a restarted daemon draws those paths again
// and offers them anew.
//
// Bounded: at most LANE_CAPACITY paths wait (a path is a few hundred bytes:
// about a megabyte at most). A big file offered to a full lane is not read in
// that visit; the visit records it with its old hash and the error "content
// not read this time: ..." (an error report: never silently unverified), and
// its next visit (next cycle, or an early re-check) offers it again. Only a
// flood of big files (thousands offered while one is read) fills it.
//
// A cycle does not end while the lane holds a path (so the first pass's
// baseline holds every file); meanwhile the trickle keeps re-checking the
// entries checked longest ago (trickle.ts), so nothing waits on the lane.
// LaneQueue is the pure decision core (which path next, what is held);
// BigFileLane runs it.
import { log } from "../util/log.ts";
import { pathKey, type PathBytes } from "./paths.ts";

/** Big files that may wait for the lane at once. */
export const LANE_CAPACITY = 4096;

export type Offer = "queued" | "held" | "full";

/** Which big file is read next, and which paths are in the lane: no I/O, no clock. */
export class LaneQueue {
  private readonly waiting: PathBytes[] = [];
  private readonly keys = new Set<string>();
  private current: string | null = null;

  constructor(readonly capacity = LANE_CAPACITY) {}

  /**
   * Offer a path: queued at the end (first: at the front, a hinted path),
   * already held (waiting or being read; first: moved to the front), or
   * refused (full).
   */
  offer(path: PathBytes, first = false): Offer {
    const key = pathKey(path);
    if (this.keys.has(key)) {
      const i = first ? this.waiting.findIndex((p) => pathKey(p) === key) : -1;
      if (i > 0) this.waiting.unshift(...this.waiting.splice(i, 1));
      return "held";
    }
    if (this.waiting.length >= this.capacity) return "full";
    if (first) this.waiting.unshift(path);
    else this.waiting.push(path);
    this.keys.add(key);
    return "queued";
  }

  /** Start on the next waiting path (first offered, first read); null when none waits. */
  start(): PathBytes | null {
    const p = this.waiting.shift() ?? null;
    this.current = p ? pathKey(p) : null;
    return p;
  }

  /** The path being read is done (recorded, or abandoned on stop). */
  finish(): void {
    if (this.current !== null) this.keys.delete(this.current);
    this.current = null;
  }

  /** Paths waiting or being read, by pathKey. */
  get held(): ReadonlySet<string> {
    return this.keys;
  }

  has(path: PathBytes): boolean {
    return this.keys.has(pathKey(path));
  }

  get size(): number {
    return this.keys.size;
  }
}

/** What the lane needs from the scanner. */
export interface LaneHost {
  readonly stopped: boolean;
  /** The visit of a big file, read in full (paced). */
  visitBig(path: PathBytes): Promise<void>;
}

export class BigFileLane {
  readonly queue: LaneQueue;
  private running: Promise<void> | null = null;
  private progress: (() => void)[] = [];

  constructor(private readonly host: LaneHost, capacity = LANE_CAPACITY) {
    this.queue = new LaneQueue(capacity);
  }

  /** Hand a big file to the lane (first: ahead of the others); the lane starts reading if idle. */
  offer(path: PathBytes, first = false): Offer {
    const r = this.queue.offer(path, first);
    if (r === "queued" && !this.running && !this.host.stopped) this.running = this.run();
    return r;
  }

  get held(): ReadonlySet<string> {
    return this.queue.held;
  }

  get busy(): boolean {
    return this.queue.size > 0;
  }

  /** Resolves when the lane finishes a file (or is idle, or stops). */
  nextDone(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.progress.push(resolve));
  }

  /** Resolves when the lane is idle (every path read, or abandoned on stop). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    try {
      for (let p = this.queue.start(); p && !this.host.stopped; p = this.queue.start()) {
        try {
          await this.host.visitBig(p);
        } catch (e) {
          log.error(`scan: big-file lane: ${(e as Error).message ?? String(e)}`);
        } finally {
          this.queue.finish();
          this.wakeWaiters();
        }
      }
    } finally {
      this.running = null;
      this.queue.finish(); // a path started but not read (stopped)
      // stopped with paths waiting: they stay pending/stale in the database
      while (this.queue.start()) this.queue.finish();
      this.wakeWaiters();
    }
  }

  private wakeWaiters(): void {
    const w = this.progress;
    this.progress = [];
    for (const f of w) f();
  }
}
