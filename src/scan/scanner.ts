// The file integrity scanner: one engine used by the daemon task (trickling at
// the configured rates) and by --scan-once (one pass at full speed).
//
// Scan state kept in the meta table (read by --status and the mail footer):
//   scan.cycle                  current traversal cycle, 1 = the first pass (absent: never started)
//   scan.cycle_start            ms since the epoch when the current cycle began
//   scan.checked                entries checked in the current cycle (flushed about once a second)
//   scan.bytes                  bytes hashed in the current cycle (flushed with scan.checked)
//   scan.first_pass_complete    "1" once a full pass has completed (the baseline exists), else "0"
//   scan.first_pass_start       ms since the epoch when the first pass began
//   scan.speed                  current speed factor (1 .. speedup)
//   scan.cycle_changes          changes (new/changed/deleted) found in the current cycle
//   scan.last_cycle_duration    ms the last completed cycle took
//   scan.last_cycle_end         ms since the epoch when the last cycle completed
//   scan.last_cycle_checked     entries checked in the last completed cycle
//   scan.last_cycle_entries     entries recorded at the end of the last completed cycle
//   scan.last_change            ms since the epoch of the last reported change
//
// Scheduling: the traversal queue is the `pending` table. Each step draws a
// pending path at a random point of its random order (reshuffled in small
// chunks periodically and after a new directory is found), visits it, and then
// visits the entry checked longest ago that this cycle has not visited yet, so
// no entry gets much staler than one cycle and deletions are found. A cycle
// ends when nothing is pending and every recorded entry was visited.
//
// --scan-once (unlimited) differs only in speed: no pacing, no stalest re-check,
// the queue in memory (a killed pass is simply started afresh), and the walk on
// worker threads (the `walker`): a visit lists a directory there, its children
// are lstat'ed and hashed there in batches, and this thread only compares and
// records them (up to FULL_SPEED_INFLIGHT directories side by side), grouping
// visits into larger transactions.
//
// Report once: each visit is one transaction holding the new state, the queued
// report (src/db/events.ts) and the history row. A crash loses neither, repeats
// neither; the visit is simply redone (its path is still pending).
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { getMeta, setMeta } from "../db/db.ts";
import { enqueue } from "../db/events.ts";
import { log } from "../util/log.ts";
import { yieldToLoop } from "../util/loop.ts";
import {
  attrsJson, baselineText, changedText, compareAttrs, deletedText, errorText, newText, type Attrs, type EntryType,
} from "./attrs.ts";
import { makeExcluder, type Matcher } from "./exclude.ts";
import { hashFile, listDirAsync, statEntry, type HashResult, type Listed, type StatResult, type Visited } from "./fsio.ts";
import { effectiveSpeed, Pacer, speedOnChange, speedOnCycleEnd, type SpeedState } from "./pace.ts";
import { isWithin, joinPath, parentOf, pathFrom, pathKey, samePath, showPath, type PathBytes } from "./paths.ts";
import { Store } from "./store.ts";

export const META = {
  cycle: "scan.cycle",
  cycleStart: "scan.cycle_start",
  checked: "scan.checked",
  bytes: "scan.bytes",
  firstPassComplete: "scan.first_pass_complete",
  firstPassStart: "scan.first_pass_start",
  speed: "scan.speed",
  cycleChanges: "scan.cycle_changes",
  lastCycleDuration: "scan.last_cycle_duration",
  lastCycleEnd: "scan.last_cycle_end",
  lastCycleChecked: "scan.last_cycle_checked",
  lastCycleEntries: "scan.last_cycle_entries",
  lastChange: "scan.last_change",
} as const;

export type FileEventKind = "new" | "changed" | "deleted" | "baseline" | "error";

export interface ScanEvent {
  kind: FileEventKind;
  subject: string;
  text: string;
}

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
  walker?: {
    list(path: PathBytes, algo: string): Promise<Listed>;
    visitMany(dir: PathBytes, names: readonly Uint8Array[], algo: string): Promise<Visited[]>;
  };
  /** Attempts at hashing a file that keeps changing while read (default 3). */
  tornAttempts?: number;
  /** Pause before re-reading a file that changed while read (ms, times the attempt number). */
  tornPauseMs?: number;
}

export type StepResult = "visited" | "cycle-end" | "idle" | "stopped";

const RESHUFFLE_CHUNK = 128;
const RESHUFFLE_EVERY_DRAWS = 2000;
const RESHUFFLE_EVERY_MS = 10 * 60_000;
const SWEEP_CHUNK = 500;
const FLUSH_MS = 1000;
const BATCH_VISITS = 5000;
const BATCH_MS = 1000;
const FULL_SPEED_INFLIGHT = 32;
const QUEUE_CHUNK = 500;
const CHILDREN_PER_JOB = 64;
const WALK_CHILDREN_MAX = 4096;

function randomProbe(): bigint {
  const a = new BigInt64Array(1);
  crypto.getRandomValues(a);
  return a[0];
}

/** A directory's children in scope, each with what the walker found at it (same order). */
interface Walked {
  children: PathBytes[];
  visited: Visited[];
}

/** The printable path, made only if a report needs it. */
function lazyShow(path: PathBytes): () => string {
  let s: string | null = null;
  return () => (s ??= showPath(path));
}

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
  private config!: Config;
  private areas: PathBytes[] = [];
  private excluded!: Matcher;
  readonly pacer: Pacer;
  private readonly unlimited: boolean;
  private readonly now: () => number;
  private readonly sleepFn: (ms: number) => Promise<void>;
  private readonly opts: ScannerOptions;
  private stopping = false;
  private wake: (() => void) | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;

  // in-memory counters, flushed to meta about once a second and at cycle end
  private checked = 0;
  private bytes = 0;
  private lastFlush = 0;
  private cycle = 0;
  private speed: SpeedState = { speed: 1, cycleChanges: 0, firstPassComplete: false };

  private draws = 0;
  private lastReshuffle = 0;
  private reshuffleCursor: Uint8Array | null = null;
  private reshuffleAgain = false;
  private sweepCursor: Uint8Array | null = null;
  private missingAreas = new Set<string>();

  constructor(opts: ScannerOptions) {
    this.opts = opts;
    this.db = opts.db;
    this.store = new Store(opts.db, { memQueue: !!opts.unlimited });
    // a full pass touches every page of the entries table: let them stay cached
    // and checkpoint the WAL (with its fsync) rarely during the pass: a clean close checkpoints at the end
    if (opts.unlimited) {
      this.db.exec("PRAGMA cache_size = -32768");
      this.db.exec("PRAGMA wal_autocheckpoint = 16384");
    }
    this.unlimited = !!opts.unlimited;
    this.now = opts.now ?? Date.now;
    this.sleepFn = opts.sleep ?? ((ms) => this.realSleep(ms));
    this.pacer = new Pacer(opts.config, { unlimited: this.unlimited });
    this.setConfig(opts.config);
    this.loadState();
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
      this.pacer.speed = effectiveSpeed(this.speed, config.speedup);
      // entries that became excluded or left the areas are dropped without a report
      this.sweepCursor = new Uint8Array(0);
      if (this.cycle > 0) this.db.transaction(() => { for (const a of this.areas) this.store.queue(a, this.cycle); })();
    }
  }

  private loadState(): void {
    const num = (k: string, d: number) => {
      const v = Number(getMeta(this.db, k));
      return Number.isFinite(v) && getMeta(this.db, k) !== undefined ? v : d;
    };
    this.cycle = num(META.cycle, 0);
    this.checked = num(META.checked, 0);
    this.bytes = num(META.bytes, 0);
    this.speed = {
      speed: num(META.speed, this.config.speedup),
      cycleChanges: num(META.cycleChanges, 0),
      firstPassComplete: getMeta(this.db, META.firstPassComplete) === "1",
    };
    this.pacer.speed = effectiveSpeed(this.speed, this.config.speedup);
    // a restart re-checks what the configuration now excludes
    this.sweepCursor = new Uint8Array(0);
  }

  get cycleNumber(): number {
    return this.cycle;
  }

  /** Entries checked and bytes hashed in the current cycle. */
  get checkedInCycle(): number {
    return this.checked;
  }

  get bytesInCycle(): number {
    return this.bytes;
  }

  get firstPassComplete(): boolean {
    return this.speed.firstPassComplete;
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

  private async sleep(ms: number): Promise<void> {
    if (ms > 0 && !this.stopping) await this.sleepFn(ms);
  }

  // ---- cycles ---------------------------------------------------------------

  /** Begin a new cycle now (used at first start and by --scan-once). */
  startCycle(): void {
    const now = this.now();
    this.db.transaction(() => {
      this.cycle += 1;
      this.checked = 0;
      this.bytes = 0;
      this.speed = { ...this.speed, cycleChanges: 0 };
      this.store.clearPending();
      for (const a of this.areas) this.store.queue(a, this.cycle, true);
      setMeta(this.db, META.cycle, this.cycle);
      setMeta(this.db, META.cycleStart, now);
      setMeta(this.db, META.cycleChanges, 0);
      if (getMeta(this.db, META.firstPassComplete) === undefined) setMeta(this.db, META.firstPassComplete, 0);
      if (getMeta(this.db, META.firstPassStart) === undefined) setMeta(this.db, META.firstPassStart, now);
      if (getMeta(this.db, META.speed) === undefined) setMeta(this.db, META.speed, this.pacer.speed);
      this.flush(now);
    })();
  }

  /**
   * Make sure the coming steps are one complete pass: start a new cycle unless
   * the current one has not visited anything yet (then only re-seed it).
   */
  freshCycle(): void {
    const visited = this.cycle > 0 && this.db.query("SELECT 1 FROM entries WHERE cycle = ? LIMIT 1").get(this.cycle) != null;
    if (this.cycle === 0 || visited) {
      this.startCycle();
      return;
    }
    this.db.transaction(() => {
      this.store.clearPending();
      for (const a of this.areas) this.store.queue(a, this.cycle);
    })();
  }

  private flush(now: number): void {
    setMeta(this.db, META.checked, this.checked);
    setMeta(this.db, META.bytes, this.bytes);
    this.lastFlush = now;
  }

  private endCycle(): void {
    const now = this.now();
    const events: ScanEvent[] = [];
    this.db.transaction(() => {
      const start = Number(getMeta(this.db, META.cycleStart) ?? now);
      const totals = this.store.totals();
      if (!this.speed.firstPassComplete) {
        const began = Number(getMeta(this.db, META.firstPassStart) ?? start);
        const text = baselineText(totals.entries, totals.files, totals.bytes, now - began);
        events.push(this.report("baseline", "baseline", text, { entries: totals.entries, files: totals.files, bytes: totals.bytes, ms: now - began }, now));
      }
      this.speed = speedOnCycleEnd(this.speed, this.config.speedup);
      this.pacer.speed = this.speed.speed;
      setMeta(this.db, META.firstPassComplete, 1);
      setMeta(this.db, META.speed, this.speed.speed);
      setMeta(this.db, META.lastCycleDuration, now - start);
      setMeta(this.db, META.lastCycleEnd, now);
      setMeta(this.db, META.lastCycleChecked, this.checked);
      setMeta(this.db, META.lastCycleEntries, totals.entries);
    })();
    this.emit(events);
    this.startCycle();
  }

  // ---- stepping -------------------------------------------------------------

  /**
   * One scheduling step: draw and visit one pending entry (then, unless at
   * full speed, re-check the stalest entry). Returns "cycle-end" when the cycle
   * just completed (a new one has been started).
   */
  async step(): Promise<StepResult> {
    if (this.stopping) return "stopped";
    if (this.sweepCursor) this.sweepChunk();
    if (this.areas.length === 0) return "idle";
    if (this.cycle === 0) this.startCycle();
    if (!this.unlimited) this.reshuffleStep();

    let path = this.store.draw(randomProbe());
    if (!path) {
      const rest = this.store.unvisited(this.cycle, 200);
      if (rest.length > 0) {
        this.db.transaction(() => { for (const p of rest) this.store.queue(p, this.cycle); })();
        path = this.store.draw(randomProbe());
      }
    }
    if (!path) {
      this.endCycle();
      return "cycle-end";
    }
    this.draws++;
    await this.sleep(this.pacer.entryWait(this.now()));
    if (this.stopping) return "stopped";
    await this.visit(path, "traverse");
    if (!this.unlimited && !this.stopping) {
      const stale = this.store.stalest(this.cycle);
      if (stale) {
        await this.sleep(this.pacer.entryWait(this.now()));
        if (this.stopping) return "stopped";
        await this.visit(stale, "stalest");
      }
    }
    return this.stopping ? "stopped" : "visited";
  }

  /** Run until the current cycle completes (true) or stop()/no areas (false). */
  async runCycle(onStep?: () => void): Promise<boolean> {
    if (this.unlimited) return this.runFullSpeed(onStep);
    for (;;) {
      const r = await this.step();
      onStep?.();
      if (r === "cycle-end") return true;
      if (r === "stopped" || r === "idle") return false;
    }
  }

  /**
   * Full speed (--scan-once): FULL_SPEED_INFLIGHT visits (mostly directories,
   * each with its children) at a time, so the workers always have files to
   * hash while this thread records others; visits are grouped into larger
   * transactions (one per BATCH_VISITS entries or BATCH_MS), still atomic:
   * reports are emitted only after the commit that holds them.
   */
  private async runFullSpeed(onStep?: () => void): Promise<boolean> {
    if (this.stopping) return false;
    if (this.sweepCursor) this.sweepAll();
    if (this.areas.length === 0) return false;
    if (this.cycle === 0) this.startCycle();
    // visits in flight by path; `wake` is resolved whenever one of them ends
    const inflight = new Map<string, Promise<void>>();
    this.dropsAtStart = this.store.drops;
    // A first pass into an empty table (the usual baseline) records each path
    // once: there is no record to look up, nor recorded children to miss.
    this.freshTable = this.store.isEmpty();
    let wake: (() => void) | null = null;
    let ended = 0;
    const batching = !this.db.inTransaction;
    if (batching) this.beginBatch();
    let failed = true;
    let error: unknown = null;
    try {
      for (;;) {
        if (error !== null) throw error;
        if (this.stopping) {
          await Promise.allSettled(inflight.values());
          failed = false;
          return false;
        }
        while (inflight.size < FULL_SPEED_INFLIGHT) {
          const path = this.store.take();
          if (!path) break;
          const key = pathKey(path);
          if (inflight.has(key)) continue;
          const job = this.visit(path, "traverse").then(
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
          const rest = this.store.unvisited(this.cycle, 200);
          if (rest.length > 0) {
            this.tx(() => { for (const p of rest) this.store.queue(p, this.cycle); });
            continue;
          }
          failed = false;
          this.commitBatch();
          this.endCycle();
          return true;
        }
        if (ended === 0) await new Promise<void>((r) => (wake = r));
        wake = null;
        ended = 0;
        if (error !== null) throw error;
        if (this.batch && (this.batch.count >= BATCH_VISITS || this.now() - this.batch.since >= BATCH_MS)) {
          // no visit is inside a transaction while awaiting: commit points are safe here
          this.commitBatch();
          this.beginBatch();
        }
      }
    } finally {
      this.freshTable = false;
      // a visit that failed may have left half its writes in the batch: the
      // whole batch is undone (none of its reports were emitted) and redone by
      // the next pass
      if (batching && failed) this.rollbackBatch();
      else if (batching) this.commitBatch();
    }
  }

  private batch: { since: number; count: number; events: ScanEvent[] } | null = null;
  private dropsAtStart = 0;
  private freshTable = false;

  private beginBatch(): void {
    this.db.exec("BEGIN IMMEDIATE");
    this.batch = { since: this.now(), count: 0, events: [] };
  }

  private commitBatch(): void {
    const b = this.batch;
    if (!b) return;
    this.batch = null;
    this.db.exec("COMMIT");
    this.emit(b.events);
  }

  private rollbackBatch(): void {
    if (!this.batch) return;
    this.batch = null;
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
  }

  private reshuffleStep(): void {
    const now = this.now();
    if (this.reshuffleCursor === null && (this.draws >= RESHUFFLE_EVERY_DRAWS || now - this.lastReshuffle >= RESHUFFLE_EVERY_MS || this.reshuffleAgain)) {
      this.reshuffleCursor = new Uint8Array(0);
      this.reshuffleAgain = false;
      this.draws = 0;
      this.lastReshuffle = now;
    }
    if (this.reshuffleCursor !== null) {
      const cur = this.reshuffleCursor;
      this.reshuffleCursor = this.db.transaction(() => this.store.reshuffleChunk(cur, RESHUFFLE_CHUNK))();
    }
  }

  /** Ask for a reshuffle of the queue (a new directory was found). */
  private requestReshuffle(): void {
    this.reshuffleAgain = true; // starts now, or again right after the one in progress
  }

  /** Drop everything now out of scope at once (--scan-once does this before its pass). */
  sweepAll(): void {
    this.sweepCursor ??= new Uint8Array(0);
    while (this.sweepCursor) this.sweepChunk();
  }

  /** An interruptible pause (idle daemon, error back-off). */
  async pause(ms: number): Promise<void> {
    await this.sleep(ms);
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

  // ---- visiting -------------------------------------------------------------

  private report(kind: FileEventKind, subject: string, text: string, details: Record<string, unknown>, now: number): ScanEvent {
    enqueue(this.db, { channel: "file", kind, subject, text, details, time: now });
    return { kind, subject, text };
  }

  /**
   * Run fn as one transaction, or, inside a full-speed batch (already in
   * BEGIN), as part of it: a batch that fails is rolled back whole, so there is
   * no need for a savepoint per visit.
   */
  private tx<T>(fn: () => T): T {
    return this.batch ? fn() : this.db.transaction(fn)();
  }

  private emit(events: ScanEvent[]): void {
    if (this.batch) {
      this.batch.events.push(...events);
      return;
    }
    if (!this.opts.onEvent) return;
    for (const e of events) this.opts.onEvent(e);
  }

  private noteChange(now: number): void {
    this.speed = speedOnChange(this.speed, this.config.speedup);
    this.pacer.speed = this.speed.speed;
    setMeta(this.db, META.speed, this.speed.speed);
    setMeta(this.db, META.cycleChanges, this.speed.cycleChanges);
    setMeta(this.db, META.lastChange, now);
  }

  /** Visit one path: compare with the record, report, store, queue children. */
  async visit(path: PathBytes, why: "traverse" | "stalest"): Promise<void> {
    this.opts.hooks?.visit?.(path, why);
    const area = this.areaOf(path);
    if (!area || this.excluded(path)) {
      this.tx(() => this.store.dropTree(path));
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
    if (attrs.type === "dir") {
      const l = listed?.listing ?? (await listDirAsync(path));
      // at full speed in byte order: the records go into the table's B-trees
      // nearly in key order (less work for SQLite), and reports come out sorted
      if (l.ok) names = this.unlimited ? l.names.sort(Buffer.compare) : l.names;
      else error = `cannot list directory: ${l.message}`;
      // (a huge directory's children are queued one by one instead, so that
      // memory stays bounded by the queue, not by the directory's size)
      if (names && walker && names.length <= WALK_CHILDREN_MAX) walked = await this.visitChildren(walker, path, names);
    }
    let queued: Set<string> | null = null;
    if (names && names.length > QUEUE_CHUNK && !this.unlimited) {
      const listed = new Set<string>();
      // A big directory: queue its children in slices, yielding in between, so
      // the event loop is never held for long. Queuing is idempotent, so a crash
      // before the commit below just redoes it (the directory is still pending).
      for (let i = 0; i < names.length && !this.stopping; i += QUEUE_CHUNK) {
        const slice = names.slice(i, i + QUEUE_CHUNK);
        this.db.transaction(() => {
          for (const name of slice) {
            const child = joinPath(path, name);
            if (this.excluded(child)) continue;
            listed.add(pathKey(child));
            this.store.queue(child, this.cycle);
          }
        })();
        await yieldToLoop();
      }
      if (this.stopping) return "done";
      queued = listed;
    }
    this.commitVisit(path, attrs, error, names, hashed, queued, walked);
    return "done";
  }

  /** A directory's children in scope (not excluded): their names and paths, in listing order. */
  private childrenInScope(dir: PathBytes, names: Buffer[]): { names: Buffer[]; children: PathBytes[] } {
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

  /** Visit a directory's children in scope on the walker, in batches. */
  private async visitChildren(walker: NonNullable<ScannerOptions["walker"]>, dir: PathBytes, names: Buffer[]): Promise<Walked> {
    const { names: kept, children } = this.childrenInScope(dir, names);
    const jobs: Promise<Visited[]>[] = [];
    for (let k = 0; k < kept.length; k += CHILDREN_PER_JOB) jobs.push(walker.visitMany(dir, kept.slice(k, k + CHILDREN_PER_JOB), this.config.hash));
    return { children, visited: (await Promise.all(jobs)).flat() };
  }

  private commitVisit(
    path: PathBytes, attrs: Attrs, error: string | null, names: Buffer[] | null, hashed: number,
    queued: Set<string> | null = null, walked: Walked | null = null,
  ): void {
    const now = this.now();
    const events: ScanEvent[] = [];
    let newDir = false;
    this.tx(() => {
      // (full speed runs visits side by side: if the directory holding this
      // entry was found deleted meanwhile, the entry went with it)
      // (a child is queued only after its directory is stored: unless something
      // was dropped since the pass began, the directory is still there)
      if (this.unlimited && this.store.drops > this.dropsAtStart && !this.store.has(parentOf(path)) && !this.areas.some((a) => samePath(a, path))) return;
      newDir = this.recordEntry(path, attrs, error, hashed, now, events);
      if (names) this.reconcileChildren(path, names, now, events, queued, walked);
      if (now - this.lastFlush >= FLUSH_MS) this.flush(now);
    });
    if (newDir && !this.unlimited) this.requestReshuffle();
    this.emit(events);
  }

  /**
   * Compare one visited entry with its record, report what changed and store
   * its new state (inside the caller's transaction). Returns whether it is a
   * directory seen for the first time.
   */
  private recordEntry(path: PathBytes, attrs: Attrs, error: string | null, hashed: number, now: number, events: ScanEvent[], queued = true): boolean {
    let newDir = false;
    const old = this.freshTable ? null : this.store.get(path);
    const shown = lazyShow(path);
    const baseline = !this.speed.firstPassComplete;
    if (!old || old.placeholder) {
      if (attrs.type === "dir") newDir = true;
      if (!baseline) {
        events.push(this.report("new", shown(), newText(shown(), attrs), { path: shown(), after: attrsJson(attrs) }, now));
        this.store.history(now, path, "new", null, attrsJson(attrs));
        this.noteChange(now);
      }
    } else {
      const diffs = compareAttrs(old, attrs);
      let note: string | undefined;
      if (old.type === "dir" && attrs.type !== "dir") {
        const below = this.store.dropBelow(path);
        if (below > 0) note = `${below} ${below === 1 ? "entry" : "entries"} below it went with it`;
      }
      if (diffs.length > 0) {
        const text = changedText(shown(), diffs, note);
        const changes = Object.fromEntries(diffs.map((d) => [d.attr, [d.before, d.after]]));
        events.push(this.report("changed", shown(), text, { path: shown(), changes, before: attrsJson(old), after: attrsJson(attrs) }, now));
        this.store.history(now, path, "changed", attrsJson(old), attrsJson(attrs));
        this.noteChange(now);
      }
    }
    if (error !== null && error !== (old?.error ?? null)) {
      events.push(this.report("error", shown(), errorText(shown(), error), { path: shown(), error }, now));
    }
    if (old && Store.same(old, attrs, error)) this.store.touch(path, error, now, this.cycle);
    else this.store.put(path, attrs, error, now, this.cycle);
    if (queued) this.store.unqueue(path);
    this.checked += 1;
    this.bytes += hashed;
    if (this.batch) this.batch.count++;
    return newDir;
  }

  /**
   * A child visited together with its directory's listing (full speed):
   * recorded right here when the visit settled it, else false (then it is
   * queued and visited on its own: directories, and anything that vanished,
   * changed while read or could not be examined, for the usual retries).
   */
  private recordChild(child: PathBytes, r: Visited, now: number, events: ScanEvent[]): boolean {
    if (!r.stat.ok || r.stat.attrs.type === "dir") return false;
    let attrs = r.stat.attrs;
    let hashed = 0;
    if (attrs.type === "file") {
      if (r.hash?.kind !== "ok") return false;
      attrs = { ...attrs, hash: r.hash.hash };
      hashed = r.hash.bytes;
    }
    this.recordEntry(child, attrs, null, hashed, now, events, false);
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
      for (let i = later.length - 1; i >= 0; i--) this.store.queue(later[i], this.cycle);
    }
    if (this.freshTable) return;
    for (const c of this.store.children(dir)) {
      if (listed.has(pathKey(c.path))) continue;
      if (this.excluded(c.path)) {
        this.store.dropTree(c.path); // newly excluded: no report
        continue;
      }
      const st = statEntry(c.path);
      if (st.ok || (st.code !== "ENOENT" && st.code !== "ENOTDIR")) continue; // appeared after the listing
      this.recordDeletion(c.path, now, events);
    }
  }

  /** Report the deletion of a recorded entry (with the count of what went below it) and forget it. */
  private recordDeletion(path: PathBytes, now: number, events: ScanEvent[]): void {
    const old = this.store.get(path);
    const below = this.store.dropTree(path);
    if (!old && below === 0) return;
    if (old?.placeholder && below === 0) return; // never had attributes: nothing to report as deleted
    const shown = showPath(path);
    const type: EntryType = old && !old.placeholder ? old.type : "dir";
    events.push(this.report("deleted", shown, deletedText(shown, type, below), { path: shown, below, before: old ? attrsJson(old) : null }, now));
    this.store.history(now, path, "deleted", old ? attrsJson(old) : null, null);
    this.noteChange(now);
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
    this.tx(() => {
      this.recordDeletion(top, now, events);
      this.store.unqueue(path);
      this.checked += 1;
    });
    if (samePath(top, area) && events.length === 0) {
      const k = pathKey(area);
      if (!this.missingAreas.has(k)) {
        this.missingAreas.add(k);
        log.warn(`area ${showPath(area)} does not exist`);
      }
    }
    this.emit(events);
  }

  /** The path exists but cannot be examined (EACCES on a parent, EIO, ...): report once. */
  private commitProblem(path: PathBytes, message: string): void {
    const now = this.now();
    const shown = showPath(path);
    const events: ScanEvent[] = [];
    this.tx(() => {
      const old = this.store.get(path);
      if ((old?.error ?? null) !== message) events.push(this.report("error", shown, errorText(shown, message), { path: shown, error: message }, now));
      if (old) this.store.touch(path, message, now, this.cycle);
      else this.store.putPlaceholder(path, message, now, this.cycle);
      this.store.unqueue(path);
      this.checked += 1;
    });
    this.emit(events);
  }
}

/** Default: the scan areas of a configuration, as printable strings (for messages). */
export function describeAreas(config: Config): string {
  return normalizeAreas(config.areas).map(showPath).join(", ");
}
