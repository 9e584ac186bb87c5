// The walk workers for --scan-once: a pool of threads running worker.ts,
// which lstat, list and hash with blocking calls, and the main thread helping
// (see HashPool). Entries are named by a directory descriptor and a name
// (dirs.ts); the caller keeps the descriptor open until the job is answered. Jobs and answers cross as strings (wire.ts). If a worker
// cannot be started or dies, its work is redone on the main thread.
import { log } from "../util/log.ts";
import { openAndList } from "./dirs.ts";
import { toVisited, visitSync, type Listed, type Visited } from "./reader.ts";
import { answerId, decodeListing, decodeVisit, listJob, manyJob } from "./wire.ts";

/**
 * The worker's program. From the sources (bun test, bun run) it sits beside
 * this module. In the compiled binary every module is part of one bundle whose
 * URL is the entry point's (src/main.ts), and build.ts embeds worker.ts as a
 * second entry point under its path relative to src/.
 */
const WORKER_URL = new URL(import.meta.path === Bun.main ? "./scan/worker.ts" : "./worker.ts", import.meta.url).href;

/** With help: jobs a worker holds before the caller takes the next one itself. */
const WORKER_QUEUE = 8;

/**
 * Worker threads that lstat and hash whole files with blocking calls (for
 * --scan-once, where the main thread's event loop has nothing else to serve).
 * Each job goes to the worker with the fewest jobs outstanding, so one huge
 * file holds up only its own worker. With `help`, the calling thread takes a
 * share too: a job finding every worker already WORKER_QUEUE jobs deep waits
 * in a local queue; the caller runs those one per event-loop turn (between its
 * own work), and hands them back to a worker that runs short. One JavaScript
 * engine fewer than a worker per core (its compiler and collector threads
 * included) is about 7% less CPU for a pass. If a worker cannot be started or
 * dies, the work falls back to the main thread.
 */
export class HashPool {
  private workers: Worker[] = [];
  private outstanding: number[] = [];
  /** jobs waiting for a worker or for the caller (help) */
  private waiting: { job: (id: number) => string; answer: (a: string[] | null) => void; here: () => void }[] = [];
  private helping = false;
  /** Jobs the caller ran itself (help). */
  ranHere = 0;
  /** id -> the job's answer (null: the worker failed; redo the job here) */
  private jobs = new Map<number, (answer: string[] | null) => void>();
  private next = 0;
  private broken = false;
  private readonly local = Buffer.allocUnsafe(1 << 20);

  constructor(size: number, private readonly help = false) {
    try {
      for (let i = 0; i < size; i++) {
        const w = new Worker(WORKER_URL);
        w.onmessage = (e: MessageEvent) => {
          const answers = e.data as string[][];
          this.outstanding[i] -= answers.length;
          this.refill();
          for (const a of answers) {
            const id = answerId(a);
            const done = this.jobs.get(id);
            this.jobs.delete(id);
            done?.(a);
          }
        };
        w.onerror = (e) => this.fail(String((e as ErrorEvent).message ?? e));
        this.workers.push(w);
        this.outstanding.push(0);
      }
    } catch (e) {
      this.fail(String((e as Error).message ?? e));
    }
  }

  private fail(why: string): void {
    if (this.broken) return;
    this.broken = true;
    log.warn(`scan: hash worker failed (${why}); hashing on the main thread`);
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.outbox = [];
    // jobs that were sent are redone here
    const pending = [...this.jobs.values(), ...this.waiting.map((w) => w.answer)];
    this.jobs.clear();
    this.waiting = [];
    for (const done of pending) done(null);
  }

  private leastBusy(): number {
    let slot = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.outstanding[i] < this.outstanding[slot]) slot = i;
    return slot;
  }

  /** here: the same job run on this thread (help), resolving the same promise */
  private send(job: (id: number) => string, answer: (answer: string[] | null) => void, here: () => void): void {
    if (this.help && this.outstanding[this.leastBusy()] >= WORKER_QUEUE) {
      this.waiting.push({ job, answer, here });
      this.helpSoon();
      return;
    }
    this.post(job, answer);
  }

  private post(job: (id: number) => string, answer: (answer: string[] | null) => void): void {
    const id = ++this.next;
    const slot = this.leastBusy();
    this.outstanding[slot]++;
    this.jobs.set(id, answer);
    (this.outbox[slot] ??= []).push(job(id));
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  /**
   * lstat entry `name` of the directory open as `dirfd` (and readlink a
   * symlink, hash a regular file); a directory is opened (checked against
   * the lstat) and listed, its descriptor handed to the caller in `fd`.
   */
  list(dirfd: number, name: Uint8Array, algo: string): Promise<Listed> {
    const here = (): Listed => {
      const raw = visitSync(dirfd, name, algo, this.local);
      const v = toVisited(raw);
      if (!raw.ok || !v.stat.ok || v.stat.attrs.type !== "dir") return { ...v, listing: null, fd: null };
      const l = openAndList(dirfd, name, raw.st);
      return { ...v, listing: l.listing, fd: l.fd };
    };
    if (this.broken || this.workers.length === 0) return Promise.resolve(here());
    return new Promise((resolve) => {
      this.send(
        (id) => listJob(id, dirfd, name, algo),
        (a) => resolve(a ? { ...decodeVisit(a[0]), ...(a.length > 1 ? decodeListing(a[1]) : { listing: null, fd: null }) } : here()),
        () => resolve(here()),
      );
    });
  }

  /** lstat (readlink, hash) each of the names in the directory open as `dirfd` (a few dozen: one job). */
  visitMany(dirfd: number, names: readonly Uint8Array[], algo: string): Promise<Visited[]> {
    const here = () => names.map((n) => toVisited(visitSync(dirfd, n, algo, this.local)));
    if (names.length === 0) return Promise.resolve([]);
    if (this.broken || this.workers.length === 0) return Promise.resolve(here());
    return new Promise((resolve) => {
      this.send(
        (id) => manyJob(id, dirfd, names, algo),
        (a) => resolve(a ? a.slice(1).map(decodeVisit) : here()),
        () => resolve(here()),
      );
    });
  }

  /** A worker answered: give it waiting jobs while it is short of work. */
  private refill(): void {
    while (this.waiting.length > 0 && this.workers.length > 0 && this.outstanding[this.leastBusy()] < WORKER_QUEUE) {
      const w = this.waiting.shift()!;
      this.post(w.job, w.answer);
    }
  }

  /** Run one waiting job here on the next event-loop turn (answers and the caller's own work come first). */
  private helpSoon(): void {
    if (this.helping) return;
    this.helping = true;
    setImmediate(() => {
      this.helping = false;
      const w = this.waiting.shift();
      if (!w) return;
      this.ranHere++;
      w.here();
      if (this.waiting.length > 0) this.helpSoon();
    });
  }

  /** Jobs queued in the same tick go to a worker in one message (a message costs more than a small file). */
  private outbox: string[][] = [];
  private flushing = false;

  private flush(): void {
    this.flushing = false;
    this.outbox.forEach((jobs, i) => {
      if (jobs.length > 0) this.workers[i]?.postMessage(jobs);
    });
    this.outbox = [];
  }

  close(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}
