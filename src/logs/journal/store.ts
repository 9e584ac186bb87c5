// The `journals` table: one row per journal source, and the events queued
// with it. Durability contract: `saveJournal` writes the row (the cursor of
// the last entry handled) in the SAME transaction as the events of the
// entries up to it, so after kill -9 at any point no entry is lost and none
// is queued twice: the next start resumes from the stored cursor (cursor.ts).
import type { Database } from "bun:sqlite";
import { type LogEvent, queueEvent } from "../store.ts";

export interface JournalRow {
  source: string;
  /** the last entry handled; "" : none (the journal was empty at first start) */
  cursor: string;
  /** its __REALTIME_TIMESTAMP (µs) */
  realtime: number;
  entries: number;
  /** the problem last noticed ("" : none) */
  problem: string;
  updated: number;
}

export function loadJournal(db: Database, source: string): JournalRow | null {
  return db.query("SELECT source, cursor, realtime, entries, problem, updated FROM journals WHERE source = ?").get(source) as JournalRow | null;
}

/** Queue `events` and store `row` (updated = now) in one transaction. */
export function saveJournal(db: Database, row: JournalRow, events: readonly LogEvent[], now: number): void {
  db.transaction(() => {
    for (const e of events) queueEvent(db, e);
    row.updated = now;
    db.query(
      `INSERT INTO journals (source, cursor, realtime, entries, problem, updated) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, realtime = excluded.realtime,
         entries = excluded.entries, problem = excluded.problem, updated = excluded.updated`,
    ).run(row.source, row.cursor, row.realtime, row.entries, row.problem, row.updated);
  }).immediate();
}

/** Forget the rows of sources no longer configured (configured again, they start at their end). */
export function forgetJournals(db: Database, keep: (source: string) => boolean): void {
  const rows = db.query("SELECT source FROM journals").all() as { source: string }[];
  const gone = rows.filter((r) => !keep(r.source));
  if (gone.length) db.transaction(() => { for (const r of gone) db.query("DELETE FROM journals WHERE source = ?").run(r.source); }).immediate();
}
