// The daemon's way of driving the scanner: paced steps at the configured rates.
//
// The traversal queue is the `pending` table. Each step draws a pending path
// at a random point of its random order (reshuffled in small chunks
// periodically and after a new directory is found), visits it, and then
// visits the entry checked longest ago that this cycle has not visited yet, so
// no entry gets much staler than one cycle and deletions are found. A cycle
// ends when nothing is pending and every recorded entry was visited. Waits
// come from the pacer (pace.ts) and go through the scanner's sleep, so a test
// runs this with a fake clock and stop() cuts any wait short.
//
// Big files are read by the big-file lane (lane.ts) beside these steps; the
// paths it holds are passed over by the draw and the stalest re-check. A
// cycle does not end while the lane holds a path: until it is done, each step
// re-checks the entry checked longest ago of all (not only of this cycle;
// big files excepted, the lane reads those once a cycle), so new and changed
// small files keep being found while a big file is read.
//
// A path whose ctime moved is re-checked early (soon.ts): a step's second
// visit is such a due re-check when there is one, else the stalest.
import { yieldToLoop } from "../util/loop.ts";
import { joinPath, pathKey, type PathBytes } from "./paths.ts";
import type { ScanHost, StepResult, TrickleDriver } from "./host.ts";
import { SoonChecks } from "./soon.ts";

const RESHUFFLE_CHUNK = 128;
const RESHUFFLE_EVERY_DRAWS = 2000;
const RESHUFFLE_EVERY_MS = 10 * 60_000;
/** A directory with more children than this has them queued in slices of this many. */
const QUEUE_CHUNK = 500;

function randomProbe(): bigint {
  const a = new BigInt64Array(1);
  crypto.getRandomValues(a);
  return a[0];
}

export class Trickle implements TrickleDriver {
  private draws = 0;
  private lastReshuffle = 0;
  private reshuffleCursor: Uint8Array | null = null;
  private reshuffleAgain = false;
  /** Waiting for the lane at the end of a cycle (unvisited entries already queued). */
  private laneWait = false;
  private readonly soon = new SoonChecks();

  constructor(private readonly s: ScanHost) {}

  /**
   * One step: draw and visit one pending entry, then re-check the stalest.
   * Returns "cycle-end" when the cycle just completed (a new one has been
   * started).
   */
  async step(): Promise<StepResult> {
    const s = this.s;
    if (s.stopped) return "stopped";
    s.sweepSome();
    if (s.areas.length === 0) return "idle";
    if (s.cycles.number === 0) s.startCycle();
    this.reshuffleStep();

    const held = s.lane?.held;
    let path = s.store.draw(randomProbe(), held);
    if (!path && !this.laneWait && s.requeueUnvisited()) path = s.store.draw(randomProbe(), held);
    if (!path && s.lane?.busy) {
      this.laneWait = true;
      return this.whileLaneBusy();
    }
    this.laneWait = false;
    if (!path) {
      s.endCycle();
      return "cycle-end";
    }
    this.draws++;
    await s.sleep(s.pacer.entryWait(s.now()));
    if (s.stopped) return "stopped";
    await s.visit(path, "traverse");
    if (!s.stopped) await this.recheck(s.store.stalest(s.cycles.number, held));
    return s.stopped ? "stopped" : "visited";
  }

  /** The step's second visit: an early re-check that is due (soon.ts), else `stale`; false when neither. */
  private async recheck(stale: Uint8Array | null): Promise<boolean> {
    const s = this.s;
    let early = this.soon.take(s.now());
    if (early && s.lane?.held.has(pathKey(early))) early = null; // the lane is reading it anyway
    const path = early ?? stale;
    if (!path) return false;
    await s.sleep(s.pacer.entryWait(s.now()));
    if (s.stopped) return true;
    await s.visit(path, early ? "soon" : "stalest");
    return true;
  }

  /** A recorded non-directory's ctime moved: re-check it early. */
  recheckSoon(path: Uint8Array): void {
    this.soon.note(path, this.s.now());
  }

  /**
   * Nothing left in this cycle but the lane's files: re-check the entry
   * checked longest ago (paced like any visit), or, with none, wait for the
   * lane to finish a file.
   */
  private async whileLaneBusy(): Promise<StepResult> {
    const s = this.s;
    if (!(await this.recheck(s.store.stalest(null, s.lane!.held, s.pacer.config.smallfiles)))) await s.lane!.nextDone();
    return s.stopped ? "stopped" : "visited";
  }

  private reshuffleStep(): void {
    const now = this.s.now();
    if (this.reshuffleCursor === null && (this.draws >= RESHUFFLE_EVERY_DRAWS || now - this.lastReshuffle >= RESHUFFLE_EVERY_MS || this.reshuffleAgain)) {
      this.reshuffleCursor = new Uint8Array(0);
      this.reshuffleAgain = false;
      this.draws = 0;
      this.lastReshuffle = now;
    }
    if (this.reshuffleCursor !== null) {
      const cur = this.reshuffleCursor;
      this.reshuffleCursor = this.s.db.transaction(() => this.s.store.reshuffleChunk(cur, RESHUFFLE_CHUNK)).immediate();
    }
  }

  /** Ask for a reshuffle of the queue (a new directory was found). */
  requestReshuffle(): void {
    this.reshuffleAgain = true; // starts now, or again right after the one in progress
  }

  /**
   * A big directory: queue its children in slices, yielding in between, so
   * the event loop is never held for long. Queuing is idempotent, so a crash
   * before the directory's own commit just redoes it (it is still pending).
   * Returns the keys of the children queued (null: not a big directory, its
   * children are queued with its commit), or "stopped".
   */
  async queueBigDirectory(dir: PathBytes, names: Buffer[]): Promise<Set<string> | null | "stopped"> {
    if (names.length <= QUEUE_CHUNK) return null;
    const s = this.s;
    const listed = new Set<string>();
    for (let i = 0; i < names.length && !s.stopped; i += QUEUE_CHUNK) {
      const slice = names.slice(i, i + QUEUE_CHUNK);
      s.db.transaction(() => {
        for (const name of slice) {
          const child = joinPath(dir, name);
          if (s.excluded(child)) continue;
          listed.add(pathKey(child));
          s.store.queue(child, s.cycles.number);
        }
      }).immediate();
      await yieldToLoop();
    }
    return s.stopped ? "stopped" : listed;
  }
}
