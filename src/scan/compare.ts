// What a visit means: the old record and what the visit found in, the reports
// and the history row out. Pure: no database, no clock, no I/O. The caller
// (record.ts) writes what comes out, in the visit's one transaction.
//
//   compareVisit     an entry found by lstat (and hashed): New, Changed, Error
//   deletionVerdict  a recorded entry that is gone: Deleted, with what went below it
//   problemReport    a path that exists but cannot be examined: Error, once
//   baselineReport   the summary of a completed first pass
//
// During the first pass (the baseline) nothing is new: entries are recorded
// silently and one Baseline summary is reported at the cycle's end (cycle.ts).
import { attrsJson, baselineText, changedText, compareAttrs, deletedText, errorText, newText, type Attrs, type EntryType } from "./attrs.ts";

export type FileEventKind = "new" | "changed" | "deleted" | "baseline" | "error" | "package";

/** One report for the file channel (its subject is the printable path). */
export interface FileReport {
  kind: FileEventKind;
  subject: string;
  text: string;
  details: Record<string, unknown>;
  /** skips pooling (a package mismatch, src/packages/judge.ts) */
  urgent?: boolean;
}

/** A row of the history table: a change found (never a baseline record, never a problem). */
export interface HistoryRow {
  kind: "new" | "changed" | "deleted";
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** A stored record as far as comparing goes. placeholder: recorded only as a problem, no attributes. */
export interface Recorded extends Attrs {
  error: string | null;
  placeholder: boolean;
}

export interface Verdict {
  /** In the order they are queued. */
  reports: FileReport[];
  /** The change to keep in history (and to speed up for), or null. */
  history: HistoryRow | null;
  /** A directory seen for the first time (the trickle reshuffles its queue then). */
  newDir: boolean;
  /** The record already holds exactly this: only its check time needs writing. */
  same: boolean;
}

const QUIET: Verdict = Object.freeze({ reports: [], history: null, newDir: false, same: false }) as Verdict;
const QUIET_DIR: Verdict = Object.freeze({ reports: [], history: null, newDir: true, same: false }) as Verdict;

/** Whether a record holds exactly these attributes and this problem. */
export function sameRecord(old: Recorded, a: Attrs, error: string | null): boolean {
  if (old.placeholder || old.error !== error) return false;
  if (old.type !== a.type || old.mode !== a.mode || old.uid !== a.uid || old.gid !== a.gid || old.size !== a.size) return false;
  if (old.ino !== a.ino || old.nlink !== a.nlink || old.mtime !== a.mtime || old.ctime !== a.ctime || old.rdev !== a.rdev) return false;
  if (old.hash !== a.hash) return false;
  if ((old.target === null) !== (a.target === null)) return false;
  return old.target === null || Buffer.compare(old.target, a.target!) === 0;
}

/**
 * A recorded directory is now something else: what was recorded below it goes
 * (the caller drops it and passes the count to compareVisit as `below`).
 */
export function losesChildren(old: Recorded, a: Attrs): boolean {
  return !old.placeholder && old.type === "dir" && a.type !== "dir";
}

/**
 * An entry found by a visit against its record (null: none).
 * shown: the printable path, called only if a report needs it.
 * below: entries dropped below a directory that is no longer one (see losesChildren).
 */
export function compareVisit(
  old: Recorded | null, attrs: Attrs, error: string | null, ctx: { baseline: boolean; shown: () => string; below: number },
): Verdict {
  const fresh = !old || old.placeholder;
  // the hot path of a first pass: nothing to say
  if (fresh && ctx.baseline && error === null) return attrs.type === "dir" ? QUIET_DIR : QUIET;
  const reports: FileReport[] = [];
  let history: HistoryRow | null = null;
  if (fresh) {
    if (!ctx.baseline) {
      const shown = ctx.shown();
      const after = attrsJson(attrs);
      reports.push({ kind: "new", subject: shown, text: newText(shown, attrs), details: { path: shown, after } });
      history = { kind: "new", before: null, after };
    }
  } else {
    const diffs = compareAttrs(old, attrs);
    if (diffs.length > 0) {
      const shown = ctx.shown();
      const note = ctx.below > 0 ? `${ctx.below} ${ctx.below === 1 ? "entry" : "entries"} below it went with it` : undefined;
      const changes = Object.fromEntries(diffs.map((d) => [d.attr, [d.before, d.after]]));
      const before = attrsJson(old);
      const after = attrsJson(attrs);
      reports.push({ kind: "changed", subject: shown, text: changedText(shown, diffs, note), details: { path: shown, changes, before, after } });
      history = { kind: "changed", before, after };
    }
  }
  if (error !== null && error !== (old?.error ?? null)) {
    const shown = ctx.shown();
    reports.push({ kind: "error", subject: shown, text: errorText(shown, error), details: { path: shown, error } });
  }
  return { reports, history, newDir: fresh && attrs.type === "dir", same: old !== null && sameRecord(old, attrs, error) };
}

/**
 * A recorded entry found gone, with `below` entries recorded under it (all
 * dropped by the caller). Null when there is nothing to report: nothing was
 * recorded, or only a problem was (no attributes ever known).
 */
export function deletionVerdict(old: Recorded | null, below: number, shown: string): { report: FileReport; history: HistoryRow } | null {
  if (!old && below === 0) return null;
  if (old?.placeholder && below === 0) return null;
  const type: EntryType = old && !old.placeholder ? old.type : "dir";
  const before = old ? attrsJson(old) : null;
  return {
    report: { kind: "deleted", subject: shown, text: deletedText(shown, type, below), details: { path: shown, below, before } },
    history: { kind: "deleted", before, after: null },
  };
}

/** A path that exists but cannot be examined: reported when its problem is new. */
export function problemReport(old: { error: string | null } | null, message: string, shown: string): FileReport | null {
  if ((old?.error ?? null) === message) return null;
  return { kind: "error", subject: shown, text: errorText(shown, message), details: { path: shown, error: message } };
}

/** The summary of a completed first pass (ms: how long it took). */
export function baselineReport(totals: { entries: number; files: number; bytes: number }, ms: number): FileReport {
  return {
    kind: "baseline",
    subject: "baseline",
    text: baselineText(totals.entries, totals.files, totals.bytes, ms),
    details: { entries: totals.entries, files: totals.files, bytes: totals.bytes, ms },
  };
}
