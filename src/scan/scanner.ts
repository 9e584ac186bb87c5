// The file integrity scanner: one engine, two ways of driving it.
//
//   trickle.ts  the daemon: paced steps at the configured rates, the queue in
//               the `pending` table (a restarted daemon resumes its cycle)
//   full.ts     --scan-once: one pass at full speed, the walk on worker
//               threads, visits grouped into batch transactions
//
// This file holds what both share: the options, the scope (areas and
// excludes, and the sweep that drops what left it), stop and sleep, and cycles
// (started and ended here, counted in cycle.ts, which owns the scan.* meta
// keys). The visit of one path is visit.ts's (I/O through reader.ts or the
// walker), its recording record.ts's (with the verdicts of compare.ts).
//
// Where a path goes: trickle.ts or full.ts draws it from the queue (store.ts)
// -> visit.ts lstats/hashes/lists it (in the daemon a file above smallfiles
// is handed to lane.ts, whose own visit reads it) -> compare.ts decides ->
// record.ts writes entry, report and history in one transaction -> onEvent
// after the commit.
//
// Members without `private` that are not part of the API (constructor,
// setConfig, step, runCycle, sweepAll, freshCycle, stop, pause and the
// getters) are the engine's insides shared with trickle.ts, full.ts and visit.ts.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { baselineReport } from "./compare.ts";
import { CycleBook } from "./cycle.ts";
import { makeExcluder, type Matcher } from "./exclude.ts";
import { FullSpeed } from "./full.ts";
import type { ScanHost, ScannerOptions, StepResult, VisitWhy } from "./host.ts";
import { BigFileLane, type LaneHost } from "./lane.ts";
import { Pacer } from "./pace.ts";
import { isWithin, joinPath, pathFrom, showPath, type PathBytes } from "./paths.ts";
import { Recorder, type ScanEvent } from "./record.ts";
import { packageJudge } from "../packages/judge.ts";
import { Store } from "./store.ts";
import { Trickle } from "./trickle.ts";
import { Visitor } from "./visit.ts";

const SWEEP_CHUNK = 500;

/** Areas as byte paths, sorted, without those inside another area. */
export function normalizeAreas(areas: readonly string[]): PathBytes[] {
  const sorted = [...new Set(areas)].sort();
  const out: PathBytes[] = [];
  for (const a of sorted) {
    const p = pathFrom(a);
    if (!out.some((o) => isWithin(p, o))) out.push(p);
  }
  return out;
}

export type { ScannerOptions, StepResult } from "./host.ts";

export class Scanner implements ScanHost, LaneHost {
  readonly db: Database;
  readonly store: Store;
  readonly pacer: Pacer;
  readonly cycles: CycleBook;
  readonly recorder: Recorder;
  readonly unlimited: boolean;
  readonly now: () => number;
  readonly opts: ScannerOptions;
  config!: Config;
  areas: PathBytes[] = [];
  excluded!: Matcher;
  private readonly sleepFn: (ms: number) => Promise<void>;
  private stopping = false;
  /** Each sleep in progress (the trickle's and the lane's may overlap): its wake-up. */
  private readonly sleepers = new Set<() => void>();
  private sweepCursor: Uint8Array | null = null;
  /** The driver: paced steps (daemon) or the full-speed runner (--scan-once). */
  readonly trickle: Trickle | null;
  readonly full: FullSpeed | null;
  /** Big files in the daemon (lane.ts); null at full speed. */
  readonly lane: BigFileLane | null;
  private readonly visitor: Visitor;

  constructor(opts: ScannerOptions) {
    this.opts = opts;
    this.db = opts.db;
    this.store = new Store(opts.db, { memQueue: !!opts.unlimited });
    this.unlimited = !!opts.unlimited;
    this.now = opts.now ?? Date.now;
    this.sleepFn = opts.sleep ?? ((ms) => this.realSleep(ms));
    this.pacer = new Pacer(opts.config, { unlimited: this.unlimited });
    this.setConfig(opts.config);
    this.cycles = new CycleBook(opts.db, this.pacer, opts.config.speedup);
    this.recorder = new Recorder(opts.db, this.store, this.cycles, opts.onEvent);
    this.recorder.judge = packageJudge(opts.db, opts.config);
    this.trickle = this.unlimited ? null : new Trickle(this);
    this.full = this.unlimited ? new FullSpeed(this) : null;
    this.visitor = new Visitor(this);
    this.lane = this.unlimited ? null : new BigFileLane(this, opts.laneCapacity);
    // a restart re-checks what the configuration now excludes
    this.sweepCursor = new Uint8Array(0);
  }

  /** Apply a (new) configuration: areas, excludes, rates, hash. */
  setConfig(config: Config): void {
    const first = !this.config;
    this.config = config;
    this.areas = normalizeAreas(config.areas);
    const db = config.database;
    this.excluded = makeExcluder([...config.excludes, db, `${db}-wal`, `${db}-shm`, `${db}-journal`, `${db}.lock`]);
    this.pacer.setRates(config);
    if (this.recorder) this.recorder.judge = packageJudge(this.db, config, this.recorder.judge);
    if (!first) {
      this.cycles.setSpeedup(config.speedup);
      // entries that became excluded or left the areas are dropped without a report
      this.sweepCursor = new Uint8Array(0);
      if (this.cycles.number > 0) this.db.transaction(() => { for (const a of this.areas) this.store.queue(a, this.cycles.number); }).immediate();
    }
  }

  get cycleNumber(): number {
    return this.cycles.number;
  }

  /** Entries checked and bytes hashed in the current cycle. */
  get checkedInCycle(): number {
    return this.cycles.checked;
  }

  get bytesInCycle(): number {
    return this.cycles.bytes;
  }

  get firstPassComplete(): boolean {
    return this.cycles.firstPassComplete;
  }

  /** Stop: wakes any wait; a hash in progress is abandoned without writing. */
  stop(): void {
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
  }

  /** Resolves when the big-file lane has let go (after stop(): nothing more is written). */
  async settled(): Promise<void> {
    await this.lane?.idle();
  }

  get stopped(): boolean {
    return this.stopping;
  }

  private realSleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Wait (paced steps, retries); returns at once when stopping. */
  async sleep(ms: number): Promise<void> {
    if (ms > 0 && !this.stopping) await this.sleepFn(ms);
  }

  /** An interruptible pause (idle daemon, error back-off). */
  async pause(ms: number): Promise<void> {
    await this.sleep(ms);
  }

  // ---- driving ----------------------------------------------------------------

  /**
   * One paced step (see trickle.ts): visit one pending entry, then re-check
   * the stalest. Returns "cycle-end" when the cycle just completed (a new one
   * has been started).
   */
  step(): Promise<StepResult> {
    if (!this.trickle) throw new Error("step() is for the paced scanner; a full-speed one runs whole cycles");
    return this.trickle.step();
  }

  /** Run until the current cycle completes (true) or stop()/no areas (false). */
  async runCycle(onStep?: () => void): Promise<boolean> {
    if (this.full) return this.full.run(onStep);
    for (;;) {
      const r = await this.step();
      onStep?.();
      if (r === "cycle-end") return true;
      if (r === "stopped" || r === "idle") return false;
    }
  }

  // ---- cycles -----------------------------------------------------------------

  /** Begin a new cycle now (used at first start and by --scan-once). */
  startCycle(): void {
    const now = this.now();
    this.db.transaction(() => {
      this.store.clearPending();
      this.cycles.begin(now);
      for (const a of this.areas) this.store.queue(a, this.cycles.number, true);
    }).immediate();
  }

  /**
   * Make sure the coming steps are one complete pass: start a new cycle unless
   * the current one has not visited anything yet (then only re-seed it).
   */
  freshCycle(): void {
    const cycle = this.cycles.number;
    const visited = cycle > 0 && this.db.query("SELECT 1 FROM entries WHERE cycle = ? LIMIT 1").get(cycle) != null;
    if (cycle === 0 || visited) {
      this.startCycle();
      return;
    }
    this.db.transaction(() => {
      this.store.clearPending();
      for (const a of this.areas) this.store.queue(a, cycle);
    }).immediate();
  }

  /** The cycle is complete: record it (the first one reports the baseline) and start the next. */
  endCycle(): void {
    const now = this.now();
    const events: ScanEvent[] = [];
    this.db.transaction(() => {
      const totals = this.store.totals();
      const { firstPassMs } = this.cycles.end(now, totals.entries);
      if (firstPassMs !== null) events.push(this.recorder.report(baselineReport(totals, firstPassMs), now));
    }).immediate();
    this.recorder.emit(events);
    this.startCycle();
  }

  /** Queue the entries this cycle has not visited (never reached); false when there are none. */
  requeueUnvisited(): boolean {
    const rest = this.store.unvisited(this.cycles.number, 200);
    if (rest.length === 0) return false;
    this.recorder.tx(() => { for (const p of rest) this.store.queue(p, this.cycles.number); });
    return true;
  }

  // ---- scope ------------------------------------------------------------------

  /** Drop everything now out of scope at once (--scan-once does this before its pass). */
  sweepAll(): void {
    this.sweepCursor ??= new Uint8Array(0);
    this.finishSweep();
  }

  /** Finish a sweep under way, if any, at once. */
  finishSweep(): void {
    while (this.sweepCursor) this.sweepChunk();
  }

  /** Drop one page of entries now out of scope, if a sweep is under way. */
  sweepSome(): void {
    if (this.sweepCursor) this.sweepChunk();
  }

  private sweepChunk(): void {
    const after = this.sweepCursor!;
    const page = this.store.page(after, SWEEP_CHUNK);
    this.db.transaction(() => {
      for (const p of page) if (!this.inScope(p)) this.store.dropTree(p);
    }).immediate();
    this.sweepCursor = page.length < SWEEP_CHUNK ? null : page[page.length - 1];
  }

  /** The area holding a path (null: out of scope). */
  areaOf(path: PathBytes): PathBytes | null {
    for (const a of this.areas) if (isWithin(path, a)) return a;
    return null;
  }

  private inScope(path: PathBytes): boolean {
    return this.areaOf(path) !== null && !this.excluded(path);
  }

  /** A directory's children in scope (not excluded): their names and paths, in listing order. */
  childrenInScope(dir: PathBytes, names: Buffer[]): { names: Buffer[]; children: PathBytes[] } {
    const kept: Buffer[] = [];
    const children: PathBytes[] = [];
    for (const name of names) {
      const child = joinPath(dir, name);
      if (this.excluded(child)) continue;
      kept.push(name);
      children.push(child);
    }
    return { names: kept, children };
  }

  /** Visit one path: compare with the record, report, store, queue children. */
  visit(path: PathBytes, why: VisitWhy): Promise<void> {
    return this.visitor.visit(path, why);
  }

  /** The lane's visit of a big file: read in full, paced (lane.ts). */
  visitBig(path: PathBytes): Promise<void> {
    return this.visitor.visit(path, "lane");
  }
}

/** Default: the scan areas of a configuration, as printable strings (for messages). */
export function describeAreas(config: Config): string {
  return normalizeAreas(config.areas).map(showPath).join(", ");
}
