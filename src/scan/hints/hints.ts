// Change hints in the daemon: watch the areas, and re-check a hinted path at
// once with the scanner's own visit (lstat, open no-follow, fstat, hash: the
// hint is never trusted, the re-check is the truth). A hinted path jumps the
// trickle's queue and, if it is a big file, the lane's (visit.ts).
//
// Backends, by `hints` (config): fanotify with a filesystem mark per area
// (FAN_MARK_FILESYSTEM, FAN_REPORT_DFID_NAME: one mark covers a whole file
// system, and each event names the writing process), else inotify (one watch
// per directory, at most `hintwatches`: watches.ts), else nothing: the
// trickle alone. `auto` tries them in that order per area; `fanotify` or
// `inotify` only that one. The kernel is read by a worker thread
// (watcher.ts); this thread never waits.
//
// Losses are events, not warnings: when a kernel queue overflows (or ours,
// core.ts), the affected areas get an `overflow` report and a metadata-first
// sweep (sweep.ts) at once; when inotify runs out of watches, a `coverage`
// report says which area is degraded and why. Each area's state is written to
// the `hints` table (status.ts) for --status and the mail footer.
import { dirname } from "node:path";
import { enqueue } from "../../db/events.ts";
import { log } from "../../util/log.ts";
import { closeQuietly } from "../dirs.ts";
import type { ScanHost } from "../host.ts";
import { joinPath, pathKey, showPath, subtreeRange, type PathBytes } from "../paths.ts";
import { areaCoverage, coverageSummary, HintQueue, type AreaCoverage, type Backend } from "./core.ts";
import { hintCalls, IN } from "./ffi.ts";
import { writeCoverage, type HintCounters } from "./status.ts";
import { sweepArea } from "./sweep.ts";
import type { WatcherBatch, WatcherCounts } from "./watcher.ts";
import { InotifyWatches } from "./watches.ts";
import type { Writer } from "./writer.ts";

const WATCHER_URL = new URL(import.meta.path === Bun.main ? "./scan/hints/watcher.ts" : "./watcher.ts", import.meta.url).href;

/** What hints need of the scanner (scanner.ts implements it). */
export type HintHost = Pick<ScanHost, "db" | "config" | "areas" | "stopped" | "now" | "recorder" | "excluded" | "areaOf" | "visit">;

interface Watcher {
  worker: Worker;
  fd: number;
  /** eventfd: wakes the watcher's poll so it takes a message */
  wake: number;
  stopped: Promise<void>;
}

export class Hints {
  private readonly queue = new HintQueue();
  private readonly backendOf = new Map<string, Backend>();
  private readonly failed = new Map<string, string>();
  private readonly watchers: Watcher[] = [];
  // inotify
  private watches: InotifyWatches | null = null;
  private readonly unwatched = new Map<string, number>();
  private readonly degradedSaid = new Set<string>();
  // overflow sweeps
  private readonly sweeping = new Set<string>();
  private readonly sweepAgain = new Set<string>();
  private readonly sweeps = new Set<Promise<void>>();
  /** The writer of the path being re-checked (Recorder.writerOf). */
  private readonly writers = new Map<string, Writer>();
  private running = true;
  private wake: (() => void) | null = null;
  private drain: Promise<void> = Promise.resolve();
  private published = "";
  private batches = 0;
  private received = 0;
  private readonly countsWanted: ((c: WatcherCounts) => void)[] = [];

  constructor(private readonly host: HintHost) {}

  /** Choose a backend per area, start watching, start re-checking. */
  async start(): Promise<void> {
    const h = this.host;
    h.recorder.writerOf = (p) => this.writers.get(pathKey(p)) ?? null;
    const mode = h.config.hints;
    const calls = hintCalls();
    const areas = h.areas.map((a) => ({ a, k: pathKey(a) }));
    for (const { k } of areas) this.backendOf.set(k, "none");
    if (mode === "off") for (const { k } of areas) this.failed.set(k, "hints = off");
    else if (!calls) for (const { k } of areas) this.failed.set(k, "no libc to call fanotify or inotify with");
    else {
      if (mode === "auto" || mode === "fanotify") this.startFanotify(areas.map((x) => x.a));
      const rest = areas.filter(({ k }) => this.backendOf.get(k) === "none").map((x) => x.a);
      if (rest.length && (mode === "auto" || mode === "inotify")) await this.startInotify(rest);
    }
    this.publish();
    log.info(coverageSummary(this.coverage()));
    this.drain = this.drainLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await Promise.all(this.watchers.map(async (w) => {
      this.tell(w, { op: "stop" });
      await Promise.race([w.stopped, new Promise((r) => setTimeout(r, 2000))]);
      w.worker.terminate();
      closeQuietly(w.fd);
      closeQuietly(w.wake);
    }));
    await this.drain;
    await Promise.all([...this.sweeps]);
    this.host.recorder.writerOf = null;
    for (const k of this.backendOf.keys()) this.failed.set(k, "the daemon is not running");
    try {
      this.publish();
    } catch {
      // the database is closing: --status says the daemon is not running anyway
    }
  }

  /** Each area's coverage now. */
  coverage(): AreaCoverage[] {
    return this.host.areas.map((a) => {
      const k = pathKey(a);
      return areaCoverage(showPath(a), {
        backend: this.backendOf.get(k) ?? "none",
        failed: this.failed.get(k),
        unwatched: this.unwatched.get(k),
        budget: this.host.config.hintwatches,
        budgetReason: this.watches?.reason ?? undefined,
        sweeping: this.sweeping.has(k),
      });
    });
  }

  /** What reached this thread and what the watchers passed over (each watcher is asked; null from one that does not answer within 2 s). */
  async counters(): Promise<HintCounters> {
    const asked = this.watchers.map((w) => new Promise<WatcherCounts | null>((resolve) => {
      const t = setTimeout(() => resolve(null), 2000);
      this.countsWanted.push((c) => (clearTimeout(t), resolve(c)));
      this.tell(w, { op: "counts" });
    }));
    const watchers = (await Promise.all(asked)).filter((c): c is WatcherCounts => c !== null);
    return { batches: this.batches, received: this.received, watchers };
  }

  /** Tests: the watchers read nothing for `ms` (so the kernel's queue can overflow). */
  holdReads(ms: number): void {
    for (const w of this.watchers) this.tell(w, { op: "hold", ms });
  }

  private tell(w: Watcher, m: unknown): void {
    w.worker.postMessage(m);
    hintCalls()!.signal(w.wake);
  }

  /** The backends in use (tests, status). */
  get backends(): Backend[] {
    return [...new Set(this.backendOf.values())];
  }

  /** How many paths wait for a re-check (tests, status). */
  get waiting(): number {
    return this.queue.size;
  }

  // ---- backends -------------------------------------------------------------

  private startFanotify(areas: PathBytes[]): void {
    const calls = hintCalls()!;
    let fd: number;
    try {
      fd = calls.fanotifyInit();
    } catch (e) {
      for (const a of areas) this.failed.set(pathKey(a), `fanotify unavailable (${(e as Error).message})`);
      return;
    }
    const marked: string[] = [];
    for (const a of areas) {
      try {
        calls.fanotifyMark(fd, showPath(a));
        this.backendOf.set(pathKey(a), "fanotify");
        this.failed.delete(pathKey(a));
        marked.push(Buffer.from(a).toString());
      } catch (e) {
        this.failed.set(pathKey(a), `fanotify mark refused (${(e as Error).message})`);
      }
    }
    if (marked.length === 0) {
      closeQuietly(fd);
      return;
    }
    // Our own database is written at every trickle step: on the same file
    // system, a filesystem mark would queue each of those writes for the
    // watcher to read and pass over. The kernel drops them instead (the
    // trickle still checks that directory where an area holds it).
    const dbDir = dirname(this.host.config.database);
    const keep = marked.includes(dbDir) ? [] : [dbDir];
    if (keep.length && !calls.fanotifyIgnore(fd, dbDir)) log.info(`hints: the kernel refused an ignore mark on ${dbDir}; the watcher passes over the database's writes itself`);
    this.spawn("fanotify", fd, marked, keep);
  }

  private async startInotify(areas: PathBytes[]): Promise<void> {
    const calls = hintCalls()!;
    let fd: number;
    try {
      fd = calls.inotifyInit();
    } catch (e) {
      for (const a of areas) this.failed.set(pathKey(a), `inotify unavailable (${(e as Error).message})`);
      return;
    }
    for (const a of areas) {
      this.backendOf.set(pathKey(a), "inotify");
      this.failed.delete(pathKey(a));
    }
    const self = this;
    this.watches = new InotifyWatches(fd, this.host.config.hintwatches, {
      get running() {
        return self.running;
      },
      excluded: (p) => this.host.excluded(p),
      hint: (p) => this.hint(p, null),
      unwatched: (area, atLeast) => this.noteUnwatched(area, atLeast),
    });
    if (!this.spawn("inotify", fd, [], [])) return;
    for (const a of areas) await this.watches.watchTree(a, a, false);
  }

  /** Start the watcher thread on `fd` (keep: directories whose ignore marks it puts back after removing its own); false (the areas marked off, fd closed) when it cannot start. */
  private spawn(kind: "fanotify" | "inotify", fd: number, areas: string[], keep: string[]): boolean {
    let worker: Worker;
    let wake: number;
    try {
      wake = hintCalls()!.eventfd();
      worker = new Worker(WATCHER_URL);
    } catch (e) {
      log.error(`hints: cannot start the ${kind} watcher: ${(e as Error).message}; the trickle alone checks its areas`);
      for (const [k, b] of this.backendOf) if (b === kind) this.failed.set(k, `${kind} watcher could not start`);
      closeQuietly(fd);
      return false;
    }
    let done!: () => void;
    const stopped = new Promise<void>((r) => (done = r));
    worker.onmessage = (e: MessageEvent) => {
      const m = e.data as WatcherBatch & { stopped?: boolean; error?: string; counts?: WatcherCounts };
      if (m.stopped) return done();
      if (m.counts) return this.countsWanted.shift()?.(m.counts);
      if (m.error) return log.warn(`hints: ${kind}: ${m.error}`);
      try {
        this.onBatch(kind, m);
      } catch (err) {
        log.error(`hints: ${(err as Error).message}`);
      }
    };
    worker.onerror = (e) => {
      log.error(`hints: ${kind} watcher failed: ${e.message}; the trickle alone checks its areas`);
      for (const [k, b] of this.backendOf) if (b === kind) this.failed.set(k, `${kind} watcher failed`);
      done();
      this.publish();
    };
    worker.postMessage({ op: "start", kind, fd, wake, areas, keep });
    this.watchers.push({ worker, fd, wake, stopped });
    return true;
  }

  // ---- inotify watches --------------------------------------------------------

  private noteUnwatched(area: PathBytes, atLeast: number): void {
    const k = pathKey(area);
    const [lo, hi] = subtreeRange(area);
    let recorded = 0;
    try {
      recorded = (this.host.db.query("SELECT count(*) AS n FROM entries WHERE type = 'dir' AND path >= ? AND path < ?").get(lo, hi) as { n: number }).n;
    } catch {
      // no figure: at least what was left
    }
    const n = Math.max(atLeast, recorded - (this.watches?.watchedBelow(area) ?? 0));
    this.unwatched.set(k, n);
    this.publish();
    if (!this.degradedSaid.has(k)) {
      this.degradedSaid.add(k);
      const shown = showPath(area);
      const text = `Coverage: change hints on ${shown} are degraded: ${n} director${n === 1 ? "y has" : "ies have"} no inotify watch (${this.watches?.reason}); changes there are found by the trickle alone`;
      enqueue(this.host.db, { channel: "file", kind: "coverage", subject: shown, text, details: { path: shown, hints: "degraded", unwatched: n, reason: this.watches?.reason } });
      log.warn(text);
    }
  }

  // ---- events -------------------------------------------------------------------

  private onBatch(kind: "fanotify" | "inotify", m: WatcherBatch): void {
    this.batches++;
    this.received += (m.hints?.length ?? 0) + (m.raw?.length ?? 0);
    for (const h of m.hints ?? []) this.hint(h.path, h.writer);
    for (const r of m.raw ?? []) {
      const dir = this.watches?.dirOf(r.wd);
      if (!dir) continue;
      if (r.mask & IN.IGNORED) {
        this.watches!.forget(r.wd);
        continue;
      }
      const path = r.name.length ? joinPath(dir, r.name) : dir;
      this.hint(path, null);
      if ((r.mask & IN.ISDIR) && (r.mask & (IN.CREATE | IN.MOVED_TO)) && r.name.length) {
        const area = this.host.areaOf(path);
        if (area) void this.watches!.watchTree(path, area, true);
      }
    }
    if (m.overflow) {
      for (const [k, b] of this.backendOf) if (b === kind) this.overflow(this.host.areas.find((a) => pathKey(a) === k)!, `the kernel's ${kind} event queue overflowed`);
    }
  }

  /** A hint: queue the path for a re-check, if it lies in an area with hints. */
  private hint(path: PathBytes, writer: Writer | null): void {
    const area = this.host.areaOf(path);
    if (!area || this.host.excluded(path) || this.backendOf.get(pathKey(area)) === "none") return;
    if (!this.queue.add(path, writer, this.host.now())) this.overflow(area, "more paths were hinted than can wait for a re-check");
    this.wake?.();
  }

  private async drainLoop(): Promise<void> {
    while (this.running && !this.host.stopped) {
      const now = this.host.now();
      const h = this.queue.take(now);
      if (h) {
        await this.recheck(h.path, h.writer);
        continue;
      }
      const due = this.queue.nextDue(now);
      await new Promise<void>((resolve) => {
        const t = due === null ? null : setTimeout(() => resolve(), due);
        this.wake = () => {
          if (t) clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
  }

  /** The scanner's visit of a hinted path (the writer, if named, goes on its reports). */
  private async recheck(path: PathBytes, writer: Writer | null): Promise<void> {
    const k = pathKey(path);
    if (writer) this.writers.set(k, writer);
    try {
      await this.host.visit(path, "hint");
    } catch (e) {
      log.error(`hints: re-check of ${showPath(path)}: ${(e as Error).message}`);
    } finally {
      this.writers.delete(k);
    }
  }

  // ---- overflow ------------------------------------------------------------------

  /** Hints were lost in an area: report it and sweep the area (again, if a sweep is under way). */
  private overflow(area: PathBytes, why: string): void {
    const k = pathKey(area);
    if (this.sweeping.has(k)) {
      this.sweepAgain.add(k);
      return;
    }
    const shown = showPath(area);
    const text = `Overflow: change hints for ${shown} were lost (${why}); a metadata sweep of ${shown} started`;
    enqueue(this.host.db, { channel: "file", kind: "overflow", subject: shown, text, details: { path: shown, reason: why } });
    log.warn(text);
    this.sweeping.add(k);
    this.publish();
    const p = this.sweep(area).finally(() => this.sweeps.delete(p));
    this.sweeps.add(p);
  }

  private async sweep(area: PathBytes): Promise<void> {
    const k = pathKey(area);
    try {
      do {
        this.sweepAgain.delete(k);
        const n = await sweepArea(this.sweepHost(), area);
        const stopped = !this.running || this.host.stopped;
        log.info(`hints: sweep of ${showPath(area)} ${stopped ? "stopped" : "done"}: ${n} path${n === 1 ? "" : "s"} re-checked`);
      } while (this.sweepAgain.has(k) && this.running && !this.host.stopped);
    } catch (e) {
      log.error(`hints: sweep of ${showPath(area)}: ${(e as Error).message}`);
    } finally {
      this.sweeping.delete(k);
      if (this.running) this.publish();
    }
  }

  private sweepHost() {
    const self = this;
    return {
      db: this.host.db,
      get stopped() {
        return !self.running || self.host.stopped;
      },
      excluded: (p: PathBytes) => this.host.excluded(p),
      recheck: (p: PathBytes) => this.recheck(p, null),
    };
  }

  /** Write the coverage to the hints table when it changed. */
  private publish(): void {
    const rows = this.coverage();
    const text = JSON.stringify(rows);
    if (text === this.published) return;
    this.published = text;
    writeCoverage(this.host.db, rows, this.host.now());
  }
}
