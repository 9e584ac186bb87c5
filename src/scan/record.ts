// Recording: writes what a visit found, with what compare.ts makes of it, in
// transactions. The durability contract ("report once"): each visit is one
// transaction holding the entry's new state, its queued reports
// (src/db/events.ts) and its history row. A crash loses neither and repeats
// neither; the visit is simply redone (its path is still pending). Reports are
// handed to onEvent only after the commit that holds them.
//
// At full speed visits are grouped into batches (one BEGIN ... COMMIT for up to
// BATCH_VISITS entries or BATCH_MS, see full.ts), still atomic: a batch that
// fails is rolled back whole, its reports never emitted.
import type { Database } from "bun:sqlite";
import { enqueue } from "../db/events.ts";
import type { Attrs } from "./attrs.ts";
import { compareVisit, deletionVerdict, losesChildren, problemReport, type FileEventKind, type FileReport, type HistoryRow } from "./compare.ts";
import type { CycleBook } from "./cycle.ts";
import { showPath, type PathBytes } from "./paths.ts";
import type { Store } from "./store.ts";
import { writerText, type Writer } from "./hints/writer.ts";
import type { PackageJudge } from "../packages/judge.ts";

/** A committed report, as handed to onEvent. */
export interface ScanEvent {
  kind: FileEventKind;
  subject: string;
  text: string;
}

/** The printable path, made only if a report needs it. */
function lazyShow(path: PathBytes): () => string {
  let s: string | null = null;
  return () => (s ??= showPath(path));
}

export class Recorder {
  private batch: { since: number; count: number; events: ScanEvent[] } | null = null;
  /**
   * Set by a full-speed pass into an empty table (the usual first baseline):
   * each path is recorded once, so no record is looked up, nor recorded
   * children missed.
   */
  freshTable = false;
  /**
   * The process a change hint named for a path (hints/hints.ts, while it
   * re-checks that path): its new/changed/deleted reports carry it as
   * details.writer and one line of text.
   */
  writerOf: ((path: PathBytes) => Writer | null) | null = null;
  /** Package verdicts on file reports (src/packages), null when `packages = off`. */
  judge: PackageJudge | null = null;

  constructor(
    private readonly db: Database,
    private readonly store: Store,
    private readonly cycles: CycleBook,
    private readonly onEvent?: (ev: ScanEvent) => void,
  ) {}

  // ---- transactions ----------------------------------------------------------

  /** Run fn as one transaction, or inside a batch (already in BEGIN) as part of it. */
  tx<T>(fn: () => T): T {
    return this.batch ? fn() : this.db.transaction(fn).immediate();
  }

  get batching(): boolean {
    return this.batch !== null;
  }

  /** Entries recorded in the open batch, and when it began (ms). */
  get batchSize(): { count: number; since: number } | null {
    return this.batch;
  }

  beginBatch(now: number): void {
    this.db.exec("BEGIN IMMEDIATE");
    this.batch = { since: now, count: 0, events: [] };
  }

  commitBatch(): void {
    const b = this.batch;
    if (!b) return;
    this.batch = null;
    this.db.exec("COMMIT");
    this.emit(b.events);
  }

  rollbackBatch(): void {
    if (!this.batch) return;
    this.batch = null;
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
  }

  /** Hand committed reports on (inside a batch: after the batch's commit). */
  emit(events: ScanEvent[]): void {
    if (this.batch) {
      this.batch.events.push(...events);
      return;
    }
    if (!this.onEvent) return;
    for (const e of events) this.onEvent(e);
  }

  // ---- writes (inside the caller's transaction) ------------------------------

  /** Queue a report for the reporters; returns it as an event to emit after the commit. */
  report(r: FileReport, now: number): ScanEvent {
    enqueue(this.db, { channel: "file", kind: r.kind, subject: r.subject, text: r.text, details: r.details, urgent: r.urgent, time: now });
    return { kind: r.kind, subject: r.subject, text: r.text };
  }

  private change(path: PathBytes, h: HistoryRow, now: number): void {
    this.store.history(now, path, h.kind, h.before, h.after);
    this.cycles.noteChange(now);
  }

  /**
   * An entry found by a visit: compare with its record, report, store its new
   * state. queued: whether it was in the queue (a child recorded with its
   * directory's listing was not). Returns whether it is a directory seen for
   * the first time, and whether a recorded non-directory's ctime moved in a
   * visit without error (soon.ts: checked again early).
   */
  entry(
    path: PathBytes, attrs: Attrs, error: string | null, hashed: number, now: number, events: ScanEvent[], queued = true,
  ): { newDir: boolean; ctimeMoved: boolean } {
    const old = this.freshTable ? null : this.store.get(path);
    const below = old && losesChildren(old, attrs) ? this.store.dropBelow(path) : 0;
    const v = compareVisit(old, attrs, error, { baseline: !this.cycles.firstPassComplete, shown: lazyShow(path), below });
    const reports = this.judge && v.reports.length > 0 ? this.judge.judge(path, attrs, error, v.reports) : v.reports;
    for (const r of reports) events.push(this.report(this.attributed(path, r), now));
    if (v.history) this.change(path, v.history, now);
    if (v.same) this.store.touch(path, error, now, this.cycles.number);
    else this.store.put(path, attrs, error, now, this.cycles.number);
    if (queued) this.store.unqueue(path);
    this.cycles.count(hashed);
    if (this.batch) this.batch.count++;
    // (not after a visit that could not verify the content: that is reported as such already)
    const ctimeMoved = error === null && !!old && !old.placeholder && old.type === attrs.type && attrs.type !== "dir" && old.ctime !== attrs.ctime;
    return { newDir: v.newDir, ctimeMoved };
  }

  /** A change report with its writer, when a hint named one. */
  private attributed(path: PathBytes, r: FileReport): FileReport {
    if (r.kind !== "new" && r.kind !== "changed" && r.kind !== "deleted") return r;
    const w = this.writerOf?.(path);
    return w ? { ...r, text: `${r.text}\n${writerText(w)}`, details: { ...r.details, writer: w } } : r;
  }

  /** A recorded entry is gone: report it (with the count of what went below it) and forget it. */
  deletion(path: PathBytes, now: number, events: ScanEvent[]): void {
    const old = this.store.get(path);
    const below = this.store.dropTree(path);
    const v = deletionVerdict(old, below, showPath(path));
    if (!v) return;
    // the package manager's own removal (src/packages/judge.ts; dpkg removes
    // only empty directories, so what was below went first): history only
    if (this.judge?.quietDeletion(path)) return this.change(path, v.history, now);
    events.push(this.report(this.attributed(path, v.report), now));
    this.change(path, v.history, now);
  }

  /** The path exists but cannot be examined (EACCES on a parent, EIO, ...): report once. */
  problem(path: PathBytes, message: string, now: number, events: ScanEvent[]): void {
    const old = this.store.get(path);
    const r = problemReport(old, message, showPath(path));
    if (r) events.push(this.report(r, now));
    if (old) this.store.touch(path, message, now, this.cycles.number);
    else this.store.putPlaceholder(path, message, now, this.cycles.number);
    this.store.unqueue(path);
    this.cycles.count(0);
  }
}
