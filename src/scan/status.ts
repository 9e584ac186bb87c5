// The scanner's figures as --status and the mail footer show them, read from
// the database alone (the entries table and the scan.* meta keys of cycle.ts),
// safe on a read-only connection while the daemon writes. What cannot be read
// (a missing table or key, a value that is not a number) is undefined.
//
//   scanStatus(db, now)    the Files section of --status
//   scanCoverage(db, now)  the mail footer: cheap on big databases (meta keys
//                          and the entries_checked index; a count of the
//                          table only before the first cycle has ended)
import type { Database } from "bun:sqlite";
import { META } from "./cycle.ts";
import { hintSummary } from "./hints/status.ts";

/** The footer figures (the reporter's Coverage). */
export interface ScanCoverage {
  /** Share of entries checked in the current cycle, 0..1. */
  coverage?: number;
  oldestCheckAgeSec?: number;
  /** Speed factor (1 .. speedup). */
  speed?: number;
  /** Entries recorded (at the end of the last cycle; all of them before the first one ends). */
  entries?: number;
  /** Change hints' coverage in one line (hints/status.ts); undefined before the daemon said any. */
  hints?: string;
}

export interface ScanStatus extends ScanCoverage {
  /** Current cycle: scan.cycle, else the highest cycle recorded in entries. */
  cycle?: number;
  lastCycleMs?: number;
  /**
   * The other scan.* keys as stored, in key order; time: the value is ms
   * since the epoch (cycle start, first pass start, last cycle end, last change).
   */
  more: { key: string; value: string; time: boolean }[];
}

/** Keys whose figure is shown above (not listed again in `more`). */
const SHOWN: ReadonlySet<string> = new Set([META.cycle, META.checked, META.speed, META.lastCycleDuration, META.lastCycleEntries]);
const TIMES: ReadonlySet<string> = new Set([META.cycleStart, META.firstPassStart, META.lastCycleEnd, META.lastChange]);

function get<T>(db: Database, sql: string, ...args: (string | number)[]): T | undefined {
  try {
    return (db.query(sql).get(...args) as T | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A meta key's value as a number (undefined: absent, unreadable, not a number). */
function metaNumber(db: Database, key: string): number | undefined {
  const v = get<{ value: string }>(db, "SELECT value FROM meta WHERE key = ?", key)?.value;
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

const ageSec = (now: number, t: number) => Math.max(0, (now - t) / 1000);

export function scanStatus(db: Database, now: number): ScanStatus {
  const out: ScanStatus = { more: [] };
  const agg = get<{ n: number; oldest: number | null; maxcycle: number | null }>(db, "SELECT count(*) AS n, min(checked) AS oldest, max(cycle) AS maxcycle FROM entries");
  if (agg) {
    out.entries = agg.n;
    if (agg.oldest !== null && agg.n > 0) out.oldestCheckAgeSec = ageSec(now, Number(agg.oldest));
    const cycle = metaNumber(db, META.cycle) ?? (agg.maxcycle === null ? undefined : Number(agg.maxcycle));
    out.cycle = cycle;
    if (cycle !== undefined && agg.n > 0) {
      const done = get<{ n: number }>(db, "SELECT count(*) AS n FROM entries WHERE cycle >= ?", cycle);
      if (done) out.coverage = done.n / agg.n;
    }
  }
  out.speed = metaNumber(db, META.speed);
  out.lastCycleMs = metaNumber(db, META.lastCycleDuration);
  let rows: { key: string; value: string }[] = [];
  try {
    rows = db.query("SELECT key, value FROM meta WHERE key LIKE 'scan.%' ORDER BY key").all() as { key: string; value: string }[];
  } catch {
    // no meta table: nothing more to show
  }
  for (const r of rows) if (!SHOWN.has(r.key)) out.more.push({ key: r.key, value: r.value, time: TIMES.has(r.key) });
  return out;
}

/**
 * The footer figures: the share is scan.checked over the entries recorded at
 * the end of the last cycle (over all entries before the first cycle ends).
 */
export function scanCoverage(db: Database, now: number): ScanCoverage {
  const out: ScanCoverage = { speed: metaNumber(db, META.speed), hints: hintSummary(db) };
  const oldest = get<{ t: number | null }>(db, "SELECT min(checked) AS t FROM entries")?.t;
  if (oldest !== null && oldest !== undefined) out.oldestCheckAgeSec = ageSec(now, Number(oldest));
  const checked = metaNumber(db, META.checked);
  const total = metaNumber(db, META.lastCycleEntries) ?? get<{ n: number }>(db, "SELECT count(*) AS n FROM entries")?.n;
  if (total !== undefined) out.entries = total;
  if (checked !== undefined && total !== undefined && total > 0) out.coverage = Math.min(1, checked / total);
  return out;
}

/** The newest changes found (the history table), newest first; throws what SQLite throws. */
export function recentChanges(db: Database, n: number): { time: number; path: Uint8Array; kind: string }[] {
  return db.query("SELECT time, path, kind FROM history ORDER BY id DESC LIMIT ?").all(n) as { time: number; path: Uint8Array; kind: string }[];
}
