// The file integrity scanner: one engine, two ways of driving it.
//
//   trickle.ts  the daemon: paced steps at the configured rates, the queue in
//               the `pending` table (a restarted daemon resumes its cycle)
//   full.ts     --scan-once: one pass at full speed, the walk on worker
//               threads, visits grouped into batch transactions
//
// This file holds what both share: the scope (areas and excludes), cycles
// (started and ended here, counted in cycle.ts, which owns the scan.* meta
// keys), and the visit of one path: lstat (and hash, and list) it through the
// I/O edge (reader.ts, or the worker pool at full speed), then record it
// (record.ts, with the verdicts of compare.ts) in one transaction. A file that
// changes while it is read is visited again after a pause, a few times.
//
// Members without `private` that are not part of the API below are the
// engine's insides shared with trickle.ts and full.ts.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { log } from "../util/log.ts";
import type { Attrs } from "./attrs.ts";
import { baselineReport } from "./compare.ts";
import { CycleBook } from "./cycle.ts";
import { makeExcluder, type Matcher } from "./exclude.ts";
import { FullSpeed, type Walked, type Walker } from "./full.ts";
import { Pacer } from "./pace.ts";
import { isWithin, joinPath, parentOf, pathFrom, pathKey, samePath, showPath, type PathBytes } from "./paths.ts";
import { hashFile, listDirAsync, statEntry, type HashResult, type Listed, type StatResult } from "./reader.ts";
import { Recorder, type ScanEvent } from "./record.ts";
import { Store } from "./store.ts";
import { Trickle } from "./trickle.ts";

export { META } from "./cycle.ts";
export type { FileEventKind } from "./compare.ts";
export type { ScanEvent } from "./record.ts";

export interface ScannerOptions {
  db: Database;
  config: Config;
  /** Full speed, no pacing, no reshuffles, no stalest re-check (--scan-once). */
  unlimited?: boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called after each committed report. */
  onEvent?: (ev: ScanEvent) => void;
  /** Test hooks. */
  hooks?: {
    visit?(path: PathBytes, why: "traverse" | "stalest"): void;
    chunk?(path: PathBytes, bytesSoFar: number): void | Promise<void>;
  };
  /**
   * Full speed: walk elsewhere (worker threads): visit and list a path, and
   * visit a directory's children in batches, so a file costs this thread no
   * system call and no visit of its own.
   */
  walker?: Walker;
  /** Attempts at hashing a file that keeps changing while read (default 3). */
  tornAttempts?: number;
  /** Pause before re-reading a file that changed while read (ms, times the attempt number). */
  tornPauseMs?: number;
}

export type StepResult = "visited" | "cycle-end" | "idle" | "stopped";

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

export class Scanner {
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
  private wake: (() => void) | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private sweepCursor: Uint8Array | null = null;
  private missingAreas = new Set<string>();
  private readonly trickle: Trickle | null;
  private readonly full: FullSpeed | null;

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
    this.trickle = this.unlimited ? null : new Trickle(this);
    this.full = this.unlimited ? new FullSpeed(this) : null;
    // a restart re-checks what the configuration now excludes
    this.sweepCursor = new Uint8Array(0);
  }

  /** Apply a (new) configuration: areas, excludes, rates, hash. */
  setConfig(config: Config): void {
    const first = !this.config;
    this.config = config;
    this.areas = normalizeAreas(config.areas);
    const db = config.database;
    this.excluded = makeExcluder([...config.excludes, db, `${db}-wal`, `${db}-shm`, `${db}-journal`]);
    this.pacer.setRates(config);
    if (!first) {
      this.cycles.setSpeedup(config.speedup);
      // entries that became excluded or left the areas are dropped without a report
      this.sweepCursor = new Uint8Array(0);
      if (this.cycles.number > 0) this.db.transaction(() => { for (const a of this.areas) this.store.queue(a, this.cycles.number); })();
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
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wake?.();
  }

  get stopped(): boolean {
    return this.stopping;
  }

  private realSleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        this.wakeTimer = null;
        resolve();
      };
      this.wakeTimer = setTimeout(() => this.wake?.(), ms);
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
    })();
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
    })();
  }

  /** The cycle is complete: record it (the first one reports the baseline) and start the next. */
  endCycle(): void {
    const now = this.now();
    const events: ScanEvent[] = [];
    this.db.transaction(() => {
      const totals = this.store.totals();
      const { firstPassMs } = this.cycles.end(now, totals.entries);
      if (firstPassMs !== null) events.push(this.recorder.report(baselineReport(totals, firstPassMs), now));
    })();
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
    })();
    this.sweepCursor = page.length < SWEEP_CHUNK ? null : page[page.length - 1];
  }

  private areaOf(path: PathBytes): PathBytes | null {
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

  // ---- visiting ---------------------------------------------------------------

  /** Visit one path: compare with the record, report, store, queue children. */
  async visit(path: PathBytes, why: "traverse" | "stalest"): Promise<void> {
    this.opts.hooks?.visit?.(path, why);
    const area = this.areaOf(path);
    if (!area || this.excluded(path)) {
      this.recorder.tx(() => this.store.dropTree(path));
      return;
    }
    const attempts = this.opts.tornAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const r = await this.visitOnce(path, area, attempt >= attempts);
      if (r !== "retry" || this.stopping) return;
      await this.sleep((this.opts.tornPauseMs ?? 200) * attempt);
      if (this.stopping) return;
    }
  }

  private async visitOnce(path: PathBytes, area: PathBytes, lastAttempt: boolean): Promise<"done" | "retry"> {
    let st: StatResult;
    let hashedThere: HashResult | null = null;
    let listed: Listed | null = null;
    const walker = this.opts.walker;
    if (walker) {
      listed = await walker.list(path, this.config.hash);
      st = listed.stat;
      hashedThere = listed.hash;
    } else {
      st = statEntry(path);
    }
    if (!st.ok) {
      if (st.code === "ENOENT" || st.code === "ENOTDIR") {
        this.missing(path, area);
        return "done";
      }
      this.commitProblem(path, st.message);
      return "done";
    }
    let attrs: Attrs = st.attrs;
    let error: string | null = null;
    let hashed = 0;
    // the recorded hash, kept when the content could not be verified this time
    const oldHash = () => {
      const old = this.store.get(path);
      return old && !old.placeholder && old.type === "file" ? old.hash : null;
    };
    if (attrs.type === "file") {
      const small = this.pacer.isSmall(Number(attrs.size));
      const hooks = this.opts.hooks;
      let sofar = 0;
      const r =
        hashedThere ??
        (await hashFile(path, attrs, st.dev, {
          algo: this.config.hash,
          small,
          chunkSize: () => this.pacer.chunkSize(),
          pace: async (n) => {
            if (hooks?.chunk) await hooks.chunk(path, sofar);
            sofar += n;
            await this.sleep(this.pacer.bytesWait(this.now(), n));
          },
          stopped: () => this.stopping,
        }));
      if (small && hooks?.chunk) await hooks.chunk(path, Number(attrs.size));
      switch (r.kind) {
        case "stopped":
          return "done";
        case "ok":
          attrs = { ...r.attrs, hash: r.hash };
          hashed = r.bytes;
          break;
        case "vanished":
        case "torn":
          if (!lastAttempt) return "retry";
          error = r.kind === "torn" ? `${r.reason} on every attempt; content not verified this cycle` : "vanished while being read";
          attrs = { ...attrs, hash: oldHash() };
          break;
        case "error":
          error = `${r.message}; content not verified`;
          attrs = { ...attrs, hash: oldHash() };
          break;
      }
    }
    let names: Buffer[] | null = null;
    let walked: Walked | null = null;
    let queued: Set<string> | null = null;
    if (attrs.type === "dir") {
      const l = listed?.listing ?? (await listDirAsync(path));
      // at full speed in byte order: the records go into the table's B-trees
      // nearly in key order (less work for SQLite), and reports come out sorted
      if (l.ok) names = this.unlimited ? l.names.sort(Buffer.compare) : l.names;
      else error = `cannot list directory: ${l.message}`;
      if (names && this.full && walker) walked = await this.full.visitChildren(walker, path, names);
      if (names && this.trickle) {
        const q = await this.trickle.queueBigDirectory(path, names);
        if (q === "stopped") return "done";
        queued = q;
      }
    }
    this.commitVisit(path, attrs, error, names, hashed, queued, walked);
    return "done";
  }

  private commitVisit(
    path: PathBytes, attrs: Attrs, error: string | null, names: Buffer[] | null, hashed: number,
    queued: Set<string> | null, walked: Walked | null,
  ): void {
    const now = this.now();
    const events: ScanEvent[] = [];
    let newDir = false;
    this.recorder.tx(() => {
      if (this.full?.parentGone(path)) return;
      newDir = this.recorder.entry(path, attrs, error, hashed, now, events);
      if (names) this.reconcileChildren(path, names, now, events, queued, walked);
      this.cycles.flushSoon(now);
    });
    if (newDir) this.trickle?.requestReshuffle();
    this.recorder.emit(events);
  }

  /**
   * A child visited together with its directory's listing (full speed):
   * recorded right here when the visit settled it, else false (then it is
   * queued and visited on its own: directories, and anything that vanished,
   * changed while read or could not be examined, for the usual retries).
   */
  private recordChild(child: PathBytes, r: Walked["visited"][number], now: number, events: ScanEvent[]): boolean {
    if (!r.stat.ok || r.stat.attrs.type === "dir") return false;
    let attrs = r.stat.attrs;
    let hashed = 0;
    if (attrs.type === "file") {
      if (r.hash?.kind !== "ok") return false;
      attrs = { ...attrs, hash: r.hash.hash };
      hashed = r.hash.bytes;
    }
    this.recorder.entry(child, attrs, null, hashed, now, events, false);
    return true;
  }

  /**
   * Record or queue the listed children; report recorded children that are gone.
   * queued: the children's keys when they were already queued (big directories);
   * walked: the children in scope already visited on the walker (full speed).
   */
  private reconcileChildren(
    dir: PathBytes, names: Buffer[], now: number, events: ScanEvent[], queued: Set<string> | null, walked: Walked | null,
  ): void {
    const cycle = this.cycles.number;
    let listed = queued;
    if (!listed) {
      listed = new Set<string>();
      const later: PathBytes[] = [];
      const { children } = walked ?? this.childrenInScope(dir, names);
      for (let i = 0; i < children.length; i++) {
        const child = children[i];
        listed.add(pathKey(child));
        if (walked && this.recordChild(child, walked.visited[i], now, events)) continue;
        later.push(child);
      }
      // (the queue in memory is taken from its end: queued last to first, the
      // names come back in their order)
      for (let i = later.length - 1; i >= 0; i--) this.store.queue(later[i], cycle);
    }
    if (this.recorder.freshTable) return;
    for (const c of this.store.children(dir)) {
      if (listed.has(pathKey(c.path))) continue;
      if (this.excluded(c.path)) {
        this.store.dropTree(c.path); // newly excluded: no report
        continue;
      }
      const st = statEntry(c.path);
      if (st.ok || (st.code !== "ENOENT" && st.code !== "ENOTDIR")) continue; // appeared after the listing
      this.recorder.deletion(c.path, now, events);
    }
  }

  /**
   * The path is gone. Walk up to the highest ancestor (within the area) that
   * is gone too, so a removed tree is reported once, at its top.
   */
  private missing(path: PathBytes, area: PathBytes): void {
    let top = path;
    while (!samePath(top, area)) {
      const parent = parentOf(top);
      const st = statEntry(parent);
      if (st.ok && st.attrs.type === "dir") break;
      if (st.ok || (st.code !== "ENOENT" && st.code !== "ENOTDIR")) break; // the parent's own visit reports it
      top = parent;
    }
    const now = this.now();
    const events: ScanEvent[] = [];
    this.recorder.tx(() => {
      this.recorder.deletion(top, now, events);
      this.store.unqueue(path);
      this.cycles.count(0);
    });
    if (samePath(top, area) && events.length === 0) {
      const k = pathKey(area);
      if (!this.missingAreas.has(k)) {
        this.missingAreas.add(k);
        log.warn(`area ${showPath(area)} does not exist`);
      }
    }
    this.recorder.emit(events);
  }

  private commitProblem(path: PathBytes, message: string): void {
    const now = this.now();
    const events: ScanEvent[] = [];
    this.recorder.tx(() => this.recorder.problem(path, message, now, events));
    this.recorder.emit(events);
  }
}

/** Default: the scan areas of a configuration, as printable strings (for messages). */
export function describeAreas(config: Config): string {
  return normalizeAreas(config.areas).map(showPath).join(", ");
}
