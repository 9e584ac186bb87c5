// Change hints' figures: the `hints` table (one row per area: backend,
// live/degraded/off and why), written by the daemon (hints.ts) and read by
// --status and the mail footer, safe on a read-only connection. What cannot
// be read (an older database without the table) is an empty list. And the
// daemon's own counters of what reached it (HintCounters, in memory:
// Hints.counters(), for tests and bench/hints).
import type { Database } from "bun:sqlite";
import { coverageSummary, type AreaCoverage, type Backend, type CoverageState } from "./core.ts";
import type { WatcherCounts } from "./watcher.ts";

/** What reached the main thread, and what each watcher passed over before it. */
export interface HintCounters {
  /** batches the watchers posted to the main thread */
  batches: number;
  /** hinted paths (fanotify) and raw records (inotify) in them */
  received: number;
  watchers: WatcherCounts[];
}

/** Replace the rows with the daemon's current coverage. */
export function writeCoverage(db: Database, rows: readonly AreaCoverage[], now: number): void {
  db.transaction(() => {
    db.query("DELETE FROM hints").run();
    const ins = db.query("INSERT INTO hints (area, backend, state, reason, updated) VALUES (?, ?, ?, ?, ?)");
    for (const r of rows) ins.run(r.area, r.backend, r.state, r.reason, now);
  }).immediate();
}

export function readCoverage(db: Database): AreaCoverage[] {
  try {
    return (db.query("SELECT area, backend, state, reason FROM hints ORDER BY area").all() as { area: string; backend: string; state: string; reason: string }[])
      .map((r) => ({ area: r.area, backend: r.backend as Backend, state: r.state as CoverageState, reason: r.reason }));
  } catch {
    return [];
  }
}

/** One line for --status and the footer (undefined: nothing recorded). */
export function hintSummary(db: Database): string | undefined {
  const rows = readCoverage(db);
  return rows.length ? coverageSummary(rows) : undefined;
}
